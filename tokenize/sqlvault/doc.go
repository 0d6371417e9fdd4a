// Package sqlvault keeps the tokens of a tokenize.Vault in an SQL database
// — SQLite or PostgreSQL — through database/sql. A *Store implements
// tokenize.TokenStore.
//
// It is a package of its own so that only the programs that keep vaulted
// tokens link a database driver: package tokenize imports none, and a
// program that makes HMAC, SIV or format-preserving tokens alone links no
// SQLite. This package imports the embedded modernc.org/sqlite driver for
// OpenSQLite, and no PostgreSQL driver.
//
// For a single host, OpenSQLite opens a file, in WAL mode with a busy
// timeout and secure_delete, and creates a new file with mode 0600:
//
//	store, err := sqlvault.OpenSQLite("/var/lib/app/tokens.db", sqlvault.Options{})
//	defer store.Close()
//	vault, err := tokenize.NewVault(keyring, store, tokenize.VaultOptions{…})
//
// For PostgreSQL, open the database with the driver of your choice and hand
// it over, with a Label (kms/sqlstore.PostgresLabel) so that store errors
// name the database without the connection string's password:
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", dsn)
//	store, err := sqlvault.New(db, piiguard.Postgres, sqlvault.Options{Label: sqlstore.PostgresLabel(dsn)})
//
// # Schema
//
// One table (Options.Table, default "piiguard_tokens"), created on first
// use or by Migrate (see Options.NoAutoMigrate for roles that may not run
// DDL), one row per tokenize.TokenRecord:
//
//	token        TEXT PRIMARY KEY          the vault-token
//	domain       TEXT                      the domain
//	blind_index  BLOB/BYTEA                TokenRecord.BlindIndex, 32 bytes
//	index_key    INTEGER/BIGINT            TokenRecord.IndexKeyID
//	value        BLOB/BYTEA                TokenRecord.Value, Tink format
//	metadata     BLOB/BYTEA NULL           TokenRecord.Metadata
//	created_at   INTEGER/BIGINT            Unix microseconds
//	expires_at   INTEGER/BIGINT NULL       Unix microseconds; NULL: never
//	UNIQUE (domain, blind_index); an index on expires_at
//
// The contents of the blind index, value and metadata are package
// tokenize's (its documentation, Vaulted tokens): this package stores them
// as they are, and never sees a plaintext.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores — in one
// process or many — may share a table. Insert is an INSERT … ON CONFLICT
// DO NOTHING on the unique (domain, blind_index): of concurrent calls
// tokenizing one new value, exactly one inserts and the others read its
// token. Rekey is one UPDATE … WHERE NOT EXISTS, so it never gives two rows
// of a domain one blind index. Migrate runs in a transaction, serialised on
// PostgreSQL by an advisory lock. Lookups go through the primary key or the
// unique index, never a scan.
//
// # Errors
//
// Errors from the database wrap tokenize.ErrStore, and name the dialect and
// Options.Label (`token store error: sqlite "/var/lib/app/tokens.db": …`),
// never a bound value: every value, token, blind index and ciphertext is a
// bound parameter, which drivers do not echo. A context that ends gives
// its own error. This package's own entry points (New, OpenSQLite,
// Migrate, Close) prefix their errors with "sqlvault: " and wrap
// tokenize.ErrInvalidOptions or tokenize.ErrStore; a tokenize.Vault wraps
// the rest in its *tokenize.Error.
//
// Deleted rows linger in SQLite's WAL until checkpointed (secure_delete
// zeroes them in the main file), in PostgreSQL's dead tuples until VACUUM,
// and in backups: the keys, not the deletion, are what make erasure final
// (see tokenize's documentation).
package sqlvault
