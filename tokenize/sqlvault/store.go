package sqlvault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/tokenize"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Table names the token table; its indexes are named after it. 1 to 48
	// characters of [a-z0-9_], starting with a letter or '_'. Default
	// DefaultTable.
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

// Store keeps a tokenize.Vault's tokens in one SQL table (schema in the
// package documentation): it implements tokenize.TokenStore. It holds no
// plaintext: values and metadata are AEAD ciphertexts, and equal values
// are found through a blind index. A Store is safe for concurrent use by
// many goroutines and by many processes sharing the database.
type Store struct {
	db      *sql.DB
	dialect piiguard.Dialect
	opts    Options
	owned   bool

	mu       sync.Mutex
	migrated atomic.Bool
	closed   atomic.Bool
}

var _ tokenize.TokenStore = (*Store)(nil)

// New returns a store over db, an open database of dialect d. It does not
// touch the database: the table is created on first use (unless
// Options.NoAutoMigrate) or by Migrate. The caller keeps ownership of db.
// An SQLite db must wait for locks rather than fail with SQLITE_BUSY
// (PRAGMA busy_timeout), as OpenSQLite's does.
func New(db *sql.DB, d piiguard.Dialect, opts Options) (*Store, error) {
	const op = "new"
	if db == nil {
		return nil, opErr(op, errf(tokenize.ErrInvalidOptions, "nil *sql.DB"))
	}
	if d != piiguard.SQLite && d != piiguard.Postgres {
		return nil, opErr(op, errf(tokenize.ErrInvalidOptions, "unknown dialect %v", d))
	}
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if !tableRE.MatchString(opts.Table) {
		return nil, opErr(op, errf(tokenize.ErrInvalidOptions, "table name %q is not 1 to 48 characters of [a-z0-9_] starting with a letter or '_'", opts.Table))
	}
	return &Store{db: db, dialect: d, opts: opts}, nil
}

// Close closes the database if OpenSQLite opened it; later calls fail with
// tokenize.ErrStore. Close is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) || !s.owned {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return opErr("close", s.classify(context.Background(), err))
	}
	return nil
}

// Migrate creates the table and its indexes if they do not exist. It is
// idempotent and safe to run concurrently (PostgreSQL serialises it with an
// advisory lock).
func (s *Store) Migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.migrate(ctx); err != nil {
		return opErr("migrate", s.classify(ctx, err))
	}
	s.migrated.Store(true)
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	t := s.opts.Table
	blob, integer := colTypes(s.dialect)
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
	if s.dialect == piiguard.Postgres {
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
func (s *Store) ready(ctx context.Context) error {
	if s.closed.Load() {
		return errf(tokenize.ErrStore, "the store is closed")
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

// classify wraps a driver error in tokenize.ErrStore, naming the dialect
// and the database (Options.Label), or returns the context's error if the
// context ended. Drivers do not echo bound parameters, and every value here
// is bound.
func (s *Store) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, tokenize.ErrStore) {
		return err
	}
	if s.opts.Label == "" {
		return fmt.Errorf("%w: %s: %v", tokenize.ErrStore, s.dialect, err)
	}
	return fmt.Errorf("%w: %s %q: %v", tokenize.ErrStore, s.dialect, s.opts.Label, err)
}

// opErr prefixes an error of this package's own entry points.
func opErr(op string, err error) error { return fmt.Errorf("sqlvault: %s: %w", op, err) }

// errf builds an error wrapping sentinel, with a message that holds no
// value.
func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// q is the dialect's query text of query, for this store's table.
func (s *Store) q(q string) string { return query(s.dialect, s.opts.Table, q) }

// micros returns t as the store keeps it, Unix microseconds; NULL (nil)
// for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reads a time column; NULL is the zero time.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64)
}

// indexArgs returns domain followed by indexes, as query arguments.
func indexArgs(domain string, indexes [][]byte) []any {
	args := make([]any, 0, len(indexes)+1)
	args = append(args, domain)
	for _, ix := range indexes {
		args = append(args, ix)
	}
	return args
}

// columns is every column of a record, in the order scan reads them.
const columns = `token, domain, blind_index, index_key, value, metadata, created_at, expires_at`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scan reads a row of columns.
func scan(rows rowScanner) (tokenize.TokenRecord, error) {
	var (
		r            tokenize.TokenRecord
		key          int64
		created, exp sql.NullInt64
	)
	if err := rows.Scan(&r.Token, &r.Domain, &r.BlindIndex, &key, &r.Value, &r.Metadata, &created, &exp); err != nil {
		return r, err
	}
	r.IndexKeyID, r.Created, r.Expires = uint32(key), fromMicros(created), fromMicros(exp)
	return r, nil
}

// query runs a SELECT of columns and reads every row.
func (s *Store) query(ctx context.Context, query string, args ...any) ([]tokenize.TokenRecord, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer rows.Close()
	var out []tokenize.TokenRecord
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, s.classify(ctx, err)
		}
		out = append(out, r)
	}
	return out, s.classify(ctx, rows.Err())
}

// exec runs a statement and returns the rows it affected.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
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

// FindByIndex implements tokenize.TokenStore, through the unique index on
// (domain, blind_index).
func (s *Store) FindByIndex(ctx context.Context, domain string, indexes [][]byte) ([]tokenize.TokenRecord, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	return s.query(ctx, `SELECT `+columns+` FROM {t} WHERE domain = ? AND blind_index IN (`+placeholders(len(indexes))+`)`, indexArgs(domain, indexes)...)
}

// Insert implements tokenize.TokenStore with INSERT … ON CONFLICT DO
// NOTHING: of concurrent inserts of one value, exactly one wins.
func (s *Store) Insert(ctx context.Context, r *tokenize.TokenRecord) (bool, error) {
	created := r.Created.UnixMicro()
	n, err := s.exec(ctx, `INSERT INTO {t} (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, blind_index) DO NOTHING`,
		r.Token, r.Domain, r.BlindIndex, int64(r.IndexKeyID), r.Value, r.Metadata, created, micros(r.Expires))
	return n == 1, err
}

// getChunk bounds the tokens of one query of Get.
const getChunk = 500

// Get implements tokenize.TokenStore, reading up to 500 tokens per query.
func (s *Store) Get(ctx context.Context, tokens []string) (map[string]tokenize.TokenRecord, error) {
	out := make(map[string]tokenize.TokenRecord, len(tokens))
	for start := 0; start < len(tokens); start += getChunk {
		part := tokens[start:min(start+getChunk, len(tokens))]
		args := make([]any, len(part))
		for i, t := range part {
			args[i] = t
		}
		rows, err := s.query(ctx, `SELECT `+columns+` FROM {t} WHERE token IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.Token] = r
		}
	}
	return out, nil
}

// Delete implements tokenize.TokenStore.
func (s *Store) Delete(ctx context.Context, domain, token string, expiredBy time.Time) (bool, error) {
	var (
		n   int64
		err error
	)
	if expiredBy.IsZero() {
		n, err = s.exec(ctx, `DELETE FROM {t} WHERE token = ? AND domain = ?`, token, domain)
	} else {
		n, err = s.exec(ctx, `DELETE FROM {t} WHERE token = ? AND domain = ? AND expires_at IS NOT NULL AND expires_at <= ?`, token, domain, expiredBy.UnixMicro())
	}
	return n > 0, err
}

// DeleteByIndex implements tokenize.TokenStore.
func (s *Store) DeleteByIndex(ctx context.Context, domain string, indexes [][]byte) (int, error) {
	if len(indexes) == 0 {
		return 0, nil
	}
	n, err := s.exec(ctx, `DELETE FROM {t} WHERE domain = ? AND blind_index IN (`+placeholders(len(indexes))+`)`, indexArgs(domain, indexes)...)
	return int(n), err
}

// PurgeExpired implements tokenize.TokenStore, through the index on
// expires_at.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.exec(ctx, `DELETE FROM {t} WHERE expires_at IS NOT NULL AND expires_at <= ?`, now.UnixMicro())
}

// List implements tokenize.TokenStore, in the order of the primary key
// (the database's collation of the token column).
func (s *Store) List(ctx context.Context, after string, limit int) ([]tokenize.TokenRecord, error) {
	return s.query(ctx, `SELECT `+columns+` FROM {t} WHERE token > ? ORDER BY token LIMIT `+strconv.Itoa(max(limit, 0)), after)
}

// Rekey implements tokenize.TokenStore in one UPDATE … WHERE NOT EXISTS.
func (s *Store) Rekey(ctx context.Context, r *tokenize.TokenRecord) (bool, error) {
	n, err := s.exec(ctx, `UPDATE {t} SET blind_index = ?, index_key = ?, value = ?, metadata = ?
		WHERE token = ? AND NOT EXISTS (SELECT 1 FROM {t} o WHERE o.domain = ? AND o.blind_index = ? AND o.token <> ?)`,
		r.BlindIndex, int64(r.IndexKeyID), r.Value, r.Metadata, r.Token, r.Domain, r.BlindIndex, r.Token)
	return n == 1, err
}
