package tokenize

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, the embedded default

	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/internal/sqlq"
)

// Dialect is the SQL database behind an SQLStore. Its zero value is invalid.
type Dialect int

// Dialects.
const (
	// SQLite: modernc.org/sqlite (driver "sqlite", imported by this package)
	// or any driver for SQLite 3.24 or later.
	SQLite Dialect = iota + 1
	// Postgres: PostgreSQL 12 or later, through github.com/jackc/pgx/v5/stdlib
	// (driver "pgx") or any driver that takes $n placeholders. This package
	// imports no PostgreSQL driver.
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// StoreOptions configures an SQLStore. The zero value is usable.
type StoreOptions struct {
	// Table names the token table; its indexes are named after it. 1 to 48
	// characters of [a-z0-9_], starting with a letter or '_'. Default
	// "piiguard_tokens".
	Table string
	// NoAutoMigrate stops the store from creating its table and indexes on
	// first use, for database roles that may not run DDL: run Migrate with
	// a privileged role instead.
	NoAutoMigrate bool
	// Label names the database in the messages of the errors that come
	// from it (`token store error: sqlite "/var/lib/app/tokens.db": …`): an
	// SQLite file's path, or PostgreSQL's host, port and database name
	// (kms/sqlstore.PostgresLabel derives them from a connection string).
	// It is printed, so it must hold no password: never pass the
	// connection string itself. Default: none, and errors name only the
	// dialect. OpenSQLite sets it to the file's path.
	Label string
}

// DefaultTable is the default name of the token table.
const DefaultTable = "piiguard_tokens"

var tableRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// SQLStore keeps a Vault's tokens in one SQL table (schema in the package
// documentation). It holds no plaintext: values and metadata are AEAD
// ciphertexts, and equal values are found through a blind index. An
// SQLStore is safe for concurrent use by many goroutines and by many
// processes sharing the database.
type SQLStore struct {
	db      *sql.DB
	dialect Dialect
	opts    StoreOptions
	owned   bool

	mu       sync.Mutex
	migrated atomic.Bool
	closed   atomic.Bool
}

// NewSQLStore returns a store over db, an open database of dialect d. It
// does not touch the database: the table is created on first use (unless
// StoreOptions.NoAutoMigrate) or by Migrate. The caller keeps ownership of
// db. An SQLite db must wait for locks rather than fail with SQLITE_BUSY
// (PRAGMA busy_timeout), as OpenSQLite's does.
func NewSQLStore(db *sql.DB, d Dialect, opts StoreOptions) (*SQLStore, error) {
	if db == nil {
		return nil, &Error{Kind: "vault", Op: "new store", Err: errf(ErrInvalidOptions, "nil *sql.DB")}
	}
	if d != SQLite && d != Postgres {
		return nil, &Error{Kind: "vault", Op: "new store", Err: errf(ErrInvalidOptions, "unknown dialect %v", d)}
	}
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if !tableRE.MatchString(opts.Table) {
		return nil, &Error{Kind: "vault", Op: "new store", Err: errf(ErrInvalidOptions, "table name %q is not 1 to 48 characters of [a-z0-9_] starting with a letter or '_'", opts.Table)}
	}
	return &SQLStore{db: db, dialect: d, opts: opts}, nil
}

// sqlitePragmas are set on every connection OpenSQLite opens: wait up to
// 10 s for a lock, WAL (readers and the writer do not block each other),
// FULL synchronous (a token handed out survives a power loss) and
// secure_delete (deleted rows are zeroed in the file, for erasure).
const sqlitePragmas = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=secure_delete(1)"

// OpenSQLite opens (creating if needed) an SQLite token store in the file
// at path with the embedded modernc.org/sqlite driver, and creates its
// table. Close the store to close the database.
//
// A file it creates has mode 0600 (owner only, whatever the umask), as
// have the -wal and -shm files SQLite makes beside it; an existing file
// keeps its mode. Errors from the database name the file: opts.Label is
// set to path unless it is set already.
func OpenSQLite(path string, opts StoreOptions) (*SQLStore, error) {
	fail := func(err error) error { return &Error{Kind: "vault", Op: "open sqlite", Err: err} }
	if path == "" {
		return nil, fail(errf(ErrInvalidOptions, "empty path"))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fail(errf(ErrInvalidOptions, "bad path"))
	}
	if opts.Label == "" {
		opts.Label = path
	}
	// SQLite would create the file with mode 0644 (less the umask). A
	// failure here (a missing directory, say) is SQLite's to report.
	_, _ = fsutil.CreatePrivate(abs)
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + sqlitePragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fail(errf(ErrStore, "%s %q: %v", SQLite, opts.Label, err))
	}
	s, err := NewSQLStore(db, SQLite, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	if err := s.Migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database if OpenSQLite opened it; later calls fail with
// ErrStore. Close is idempotent.
func (s *SQLStore) Close() error {
	if s.closed.Swap(true) || !s.owned {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return &Error{Kind: "vault", Op: "close", Err: s.classify(context.Background(), err)}
	}
	return nil
}

// Migrate creates the table and its indexes if they do not exist. It is
// idempotent and safe to run concurrently (PostgreSQL serialises it with an
// advisory lock).
func (s *SQLStore) Migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.migrate(ctx); err != nil {
		return &Error{Kind: "vault", Op: "migrate", Err: s.classify(ctx, err)}
	}
	s.migrated.Store(true)
	return nil
}

func (s *SQLStore) migrate(ctx context.Context) error {
	t := s.opts.Table
	blob, integer := "BLOB", "INTEGER"
	if s.dialect == Postgres {
		blob, integer = "BYTEA", "BIGINT"
	}
	ddl := []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (
			token       TEXT NOT NULL PRIMARY KEY,
			domain      TEXT NOT NULL,
			blind_index ` + blob + ` NOT NULL,
			index_key   ` + integer + ` NOT NULL,
			value       ` + blob + ` NOT NULL,
			metadata    ` + blob + `,
			created_at  ` + integer + ` NOT NULL,
			expires_at  ` + integer + `
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ` + t + `_value ON ` + t + ` (domain, blind_index)`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_expiry ON ` + t + ` (expires_at) WHERE expires_at IS NOT NULL`,
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		h := fnv.New64a()
		h.Write([]byte("piiguard/tokenize/" + t))
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return err
		}
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ready checks the closed state and runs the migration once.
func (s *SQLStore) ready(ctx context.Context) error {
	if s.closed.Load() {
		return errf(ErrStore, "the store is closed")
	}
	if s.migrated.Load() || s.opts.NoAutoMigrate {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated.Load() {
		return nil
	}
	if err := s.migrate(ctx); err != nil {
		return s.classify(ctx, err)
	}
	s.migrated.Store(true)
	return nil
}

// classify wraps a driver error in ErrStore, naming the dialect and the
// database (StoreOptions.Label), or returns the context's error if the
// context ended. Drivers do not echo bound parameters, and every value here
// is bound.
func (s *SQLStore) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var te *Error
	if errors.As(err, &te) || errors.Is(err, ErrStore) {
		return err
	}
	if s.opts.Label == "" {
		return fmt.Errorf("%w: %s: %v", ErrStore, s.dialect, err)
	}
	return fmt.Errorf("%w: %s %q: %v", ErrStore, s.dialect, s.opts.Label, err)
}

// q rewrites ? placeholders to $n for PostgreSQL and names the table
// ("{t}" in the query).
func (s *SQLStore) q(query string) string {
	query = strings.ReplaceAll(query, "{t}", s.opts.Table)
	if s.dialect != Postgres {
		return query
	}
	return sqlq.Numbered(query)
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// tokenRow is one row of the token table.
type tokenRow struct {
	token    string
	domain   string
	index    []byte
	indexKey uint32
	value    []byte
	metadata []byte
	created  int64 // Unix microseconds
	expires  int64 // Unix microseconds, 0 for never
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// findByIndex returns the rows of domain whose blind index is one of
// indexes.
func (s *SQLStore) findByIndex(ctx context.Context, domain string, indexes [][]byte) ([]tokenRow, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(indexes)+1)
	args = append(args, domain)
	for _, ix := range indexes {
		args = append(args, ix)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT token, blind_index, value, expires_at FROM {t} WHERE domain = ? AND blind_index IN (`+placeholders(len(indexes))+`)`), args...)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer rows.Close()
	var out []tokenRow
	for rows.Next() {
		r := tokenRow{domain: domain}
		var exp sql.NullInt64
		if err := rows.Scan(&r.token, &r.index, &r.value, &exp); err != nil {
			return nil, s.classify(ctx, err)
		}
		r.expires = exp.Int64
		out = append(out, r)
	}
	return out, s.classify(ctx, rows.Err())
}

// insert adds r unless domain already has a row with its blind index; it
// reports whether r was inserted. Of concurrent inserts of one value,
// exactly one wins.
func (s *SQLStore) insert(ctx context.Context, r tokenRow) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO {t} (token, domain, blind_index, index_key, value, metadata, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, blind_index) DO NOTHING`),
		r.token, r.domain, r.index, int64(r.indexKey), r.value, r.metadata, r.created, nullInt(r.expires))
	if err != nil {
		return false, s.classify(ctx, err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.classify(ctx, err)
}

// get returns the row of token; ok is false if there is none.
func (s *SQLStore) get(ctx context.Context, token string) (tokenRow, bool, error) {
	r := tokenRow{token: token}
	if err := s.ready(ctx); err != nil {
		return r, false, err
	}
	var (
		key int64
		exp sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT domain, blind_index, index_key, value, metadata, created_at, expires_at FROM {t} WHERE token = ?`), token).
		Scan(&r.domain, &r.index, &key, &r.value, &r.metadata, &r.created, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, s.classify(ctx, err)
	}
	r.indexKey, r.expires = uint32(key), exp.Int64
	return r, true, nil
}

// getMany returns the rows of tokens that exist, by token.
func (s *SQLStore) getMany(ctx context.Context, tokens []string) (map[string]tokenRow, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]tokenRow, len(tokens))
	const chunk = 500
	for start := 0; start < len(tokens); start += chunk {
		part := tokens[start:min(start+chunk, len(tokens))]
		args := make([]any, len(part))
		for i, t := range part {
			args[i] = t
		}
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT token, domain, value, metadata, created_at, expires_at FROM {t} WHERE token IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, s.classify(ctx, err)
		}
		for rows.Next() {
			var (
				r   tokenRow
				exp sql.NullInt64
			)
			if err := rows.Scan(&r.token, &r.domain, &r.value, &r.metadata, &r.created, &exp); err != nil {
				rows.Close()
				return nil, s.classify(ctx, err)
			}
			r.expires = exp.Int64
			out[r.token] = r
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.classify(ctx, err)
		}
	}
	return out, nil
}

// exec runs a statement and returns the rows it affected.
func (s *SQLStore) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, s.classify(ctx, err)
	}
	n, err := res.RowsAffected()
	return n, s.classify(ctx, err)
}

// deleteExpired deletes token if it expired at or before now.
func (s *SQLStore) deleteExpired(ctx context.Context, token string, now int64) error {
	_, err := s.exec(ctx, `DELETE FROM {t} WHERE token = ? AND expires_at IS NOT NULL AND expires_at <= ?`, token, now)
	return err
}

// deleteToken deletes the row of token in domain.
func (s *SQLStore) deleteToken(ctx context.Context, domain, token string) (int64, error) {
	return s.exec(ctx, `DELETE FROM {t} WHERE token = ? AND domain = ?`, token, domain)
}

// deleteByIndex deletes the rows of domain whose blind index is one of
// indexes.
func (s *SQLStore) deleteByIndex(ctx context.Context, domain string, indexes [][]byte) (int64, error) {
	args := []any{domain}
	for _, ix := range indexes {
		args = append(args, ix)
	}
	return s.exec(ctx, `DELETE FROM {t} WHERE domain = ? AND blind_index IN (`+placeholders(len(indexes))+`)`, args...)
}

// purgeExpired deletes every row that expired at or before now.
func (s *SQLStore) purgeExpired(ctx context.Context, now int64) (int64, error) {
	return s.exec(ctx, `DELETE FROM {t} WHERE expires_at IS NOT NULL AND expires_at <= ?`, now)
}

// page returns up to limit rows whose token sorts after after, in token
// order.
func (s *SQLStore) page(ctx context.Context, after string, limit int) ([]tokenRow, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT token, domain, index_key, value, metadata FROM {t} WHERE token > ? ORDER BY token LIMIT `+strconv.Itoa(limit)), after)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer rows.Close()
	var out []tokenRow
	for rows.Next() {
		var (
			r   tokenRow
			key int64
		)
		if err := rows.Scan(&r.token, &r.domain, &key, &r.value, &r.metadata); err != nil {
			return nil, s.classify(ctx, err)
		}
		r.indexKey = uint32(key)
		out = append(out, r)
	}
	return out, s.classify(ctx, rows.Err())
}

// rekey rewrites a row's blind index and ciphertexts unless another row of
// its domain already holds the new blind index; it reports whether it did.
func (s *SQLStore) rekey(ctx context.Context, r tokenRow) (bool, error) {
	n, err := s.exec(ctx, `UPDATE {t} SET blind_index = ?, index_key = ?, value = ?, metadata = ?
		WHERE token = ? AND NOT EXISTS (SELECT 1 FROM {t} o WHERE o.domain = ? AND o.blind_index = ? AND o.token <> ?)`,
		r.index, int64(r.indexKey), r.value, r.metadata, r.token, r.domain, r.index, r.token)
	return n == 1, err
}
