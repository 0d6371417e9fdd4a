// Package sqlstore keeps piiguard keysets and subject keys in an SQL
// database — SQLite or PostgreSQL — through database/sql. A *Store
// implements kms.Store and passes the kmstest store conformance suite.
//
// For a single host, OpenSQLite opens a file with the pure-Go
// modernc.org/sqlite driver, set up for sharing between processes:
//
//	store, err := sqlstore.OpenSQLite("/var/lib/app/keys.db")
//	defer store.Close()
//
// For PostgreSQL, open the database with the driver of your choice (this
// package imports none) and hand it over:
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", "postgres://app@db.internal/app")
//	store, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{})
//
// # Schema
//
// Four tables, each name preceded by Options.TablePrefix:
//
//	piiguard_schema        version INTEGER PK, applied TIMESTAMP
//	piiguard_keysets       name TEXT PK, purpose TEXT, revision BIGINT,
//	                       root_key TEXT, wrapped_data_key BLOB/BYTEA,
//	                       encrypted_keyset BLOB/BYTEA,
//	                       versions TEXT/JSONB, created, updated
//	piiguard_subject_keys  subject_id TEXT PK, keyset TEXT,
//	                       encrypted_key BLOB/BYTEA, created, destroyed
//	piiguard_manifest      one row (id 1): revision BIGINT, root_key TEXT,
//	                       root_check BLOB/BYTEA, keysets TEXT/JSONB (a JSON
//	                       array of names), created, updated — the store's
//	                       kms.Manifest (schema version 2)
//
// The tables are created on first use (or by Migrate; see
// Options.NoAutoMigrate for roles that may not run DDL), and piiguard_schema
// records which migrations ran: a database written by a newer piiguard is
// refused with kms.ErrUnsupportedVersion rather than misread. The versions
// column is a JSON array whose format is documented on versionJSON and
// pinned by testdata/versions-v1.json. Times are kept to the microsecond
// (finer digits are truncated) in UTC: TIMESTAMPTZ on PostgreSQL, ISO 8601
// text ("2006-01-02T15:04:05.000000Z") on SQLite; a zero time is NULL.
// Names, subject IDs and other text must be valid UTF-8 without NUL bytes
// (what PostgreSQL can store), else kms.ErrInvalidArgument.
//
// Subject keys are only ever read, written and destroyed by primary key:
// there is no scan on that path, whatever the number of subjects.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores — in one
// process or many — may share a database. Every write is one statement, so
// it is atomic on its own, without a transaction:
//
//   - PutKeyset is a compare-and-swap on the revision: an INSERT … ON
//     CONFLICT DO NOTHING for a new keyset (nothing inserted:
//     kms.ErrAlreadyExists) and UPDATE … WHERE name = ? AND revision = ?
//     otherwise (nothing updated: kms.ErrConflict). Two writers rotating
//     one keyset never lose a version: the loser re-reads and retries.
//   - PutSubjectKey is an INSERT … ON CONFLICT DO NOTHING: of concurrent
//     creators exactly one wins.
//   - DestroySubjectKey is an UPDATE … WHERE destroyed IS NULL; rows are
//     never deleted, so a tombstone stays a tombstone.
//
// SQLite allows one writer at a time: OpenSQLite sets WAL mode (readers and
// the writer do not block each other) and a 10 s busy_timeout (a writer
// waits for the lock instead of failing with SQLITE_BUSY). A *sql.DB given
// to New should be opened likewise. Migrations serialize on an IMMEDIATE
// transaction (SQLite) or an advisory lock (PostgreSQL).
//
// # Errors
//
// Every error is prefixed "sqlstore: " and wraps one kms sentinel, or the
// context's error when the context was cancelled or expired:
//
//   - kms.ErrNotFound: no such keyset or subject key (sql.ErrNoRows);
//   - kms.ErrAlreadyExists, kms.ErrConflict: see Concurrency;
//   - kms.ErrUnavailable: the database could not be reached or is busy —
//     a refused or reset connection, a bad connection, PostgreSQL classes 08
//     and 53 and shutdown, serialization and lock-timeout states, SQLite
//     BUSY, LOCKED and CANTOPEN; it is the only class worth retrying;
//   - kms.ErrPermissionDenied: authentication failed or the role lacks a
//     privilege; SQLite READONLY, PERM or AUTH;
//   - kms.ErrCorrupt: a stored record (or the database file) is malformed;
//   - kms.ErrUnsupportedVersion: the schema is newer than this package, or
//     not migrated while Options.NoAutoMigrate is set;
//   - kms.ErrInvalidArgument: a nil record, an empty or non-UTF-8 name, a
//     bad table prefix, a time outside years 1–9999;
//   - kms.ErrClosed: the Store was closed;
//   - kms.ErrBackend: anything else the driver reported.
//
// Messages name keysets but never subject IDs (which may be personal data),
// and never key bytes: every value is a bound parameter, which drivers do
// not echo. An error that came from the database names it, after the
// prefix, when the Store has a label (Options.Label): OpenSQLite labels a
// Store with its file's path; give New the label of a PostgreSQL database
// with PostgresLabel, which keeps the host, port and database name of a
// connection string and drops its user, password and parameters:
//
//	sqlstore: sqlite "/var/lib/app/keys.db": put keyset "customers": permission denied: attempt to write a readonly database (8)
//	sqlstore: postgres "db.example.com:5432/app": get keyset "customers": unavailable: failed to connect to …
//
// # Files
//
// OpenSQLite creates a new database file with mode 0600, so SQLite's -wal
// and -shm files beside it get 0600 too; the file holds only encrypted
// keys, but no one else has reason to read it. An existing file keeps its
// mode.
//
// # Security considerations
//
// Everything stored is either encrypted (the keysets under their data keys,
// the subject keys under a keyset) or metadata that is never trusted for a
// security decision, so read access to the database alone reveals no key.
// Write access, though, can delete keys (and with them data) or roll a
// keyset back to an older revision: restrict it to the application's role.
//
// Destroying a subject key overwrites its column in place, and OpenSQLite
// sets secure_delete so that SQLite zeroes freed space. Copies may still
// outlive the row for a while — in SQLite's WAL file until it is
// checkpointed and reused, in PostgreSQL's dead tuples until VACUUM and in
// its WAL archive — and for good in any backup of the database taken
// earlier. Keep database backups short-lived, or back the keys up with
// kms.Keyring's Backup, which holds keysets but no subject keys.
package sqlstore
