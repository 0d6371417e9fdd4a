package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// TablePrefix is put before every table name, so that several stores
	// (or test runs) can share one database or schema: with "app1_" the
	// tables are app1_piiguard_keysets and so on. It is 0–32 characters of
	// [a-z0-9_] and starts with a letter or '_'. Default: none. To use a
	// PostgreSQL schema, set search_path in the connection string instead.
	TablePrefix string
	// NoAutoMigrate stops the Store from creating or upgrading its tables
	// on first use, for applications whose database role may not run DDL:
	// run Migrate (or the migrations of your own tooling) with a privileged
	// role instead. The Store then only checks the schema version.
	NoAutoMigrate bool
	// Label names the database in the messages of the errors that come
	// from it (`sqlstore: postgres "db.example.com:5432/app": get keyset …`):
	// the SQLite file's path, or PostgreSQL's host, port and database name,
	// which PostgresLabel derives from a connection string. It is printed
	// (quoted), so it must hold no password: never pass the connection
	// string itself. Default: none, and errors do not name the database.
	// OpenSQLite sets it to the file's path.
	Label string
}

var prefixRE = regexp.MustCompile(`^([a-z_][a-z0-9_]{0,31})?$`)

// Store is a kms.Store in an SQL database. It is safe for concurrent use by
// many goroutines, and by many processes sharing the database.
type Store struct {
	db      *sql.DB
	dialect piiguard.Dialect
	opts    Options
	owned   bool // Close closes db
	q       queries

	mu       sync.Mutex // serializes the schema check
	schemaOK atomic.Bool
	closed   atomic.Bool
}

var (
	_ kms.Store               = (*Store)(nil)
	_ kms.SubjectKeyRewrapper = (*Store)(nil)
)

// New returns a Store over db, an open database of dialect d. It does not
// touch the database: the tables are created (or checked, with
// NoAutoMigrate) on first use, or by an explicit call to Migrate. The
// caller keeps ownership of db: Close does not close it.
//
// For SQLite, db must wait for locks rather than fail with SQLITE_BUSY
// (PRAGMA busy_timeout), and should use WAL; OpenSQLite does both.
func New(db *sql.DB, d piiguard.Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("sqlstore: nil *sql.DB: %w", kms.ErrInvalidArgument)
	}
	if !d.Valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v: %w", d, kms.ErrInvalidArgument)
	}
	if !prefixRE.MatchString(opts.TablePrefix) {
		return nil, fmt.Errorf("sqlstore: table prefix %q is not 0–32 characters of [a-z0-9_] starting with a letter or '_': %w",
			opts.TablePrefix, kms.ErrInvalidArgument)
	}
	return &Store{db: db, dialect: d, opts: opts, q: buildQueries(d, opts.TablePrefix)}, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() piiguard.Dialect { return s.dialect }

// Close marks the store closed; later calls fail with an error wrapping
// kms.ErrClosed. It closes the database only if the store opened it
// (OpenSQLite). Close is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) || !s.owned {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return s.wrapErr(context.Background(), "close", err)
	}
	return nil
}

// begin is called first by every operation: it refuses a closed store or a
// done context and makes sure the schema is in place.
func (s *Store) begin(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if s.schemaOK.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schemaOK.Load() {
		return nil
	}
	var err error
	if s.opts.NoAutoMigrate {
		err = s.checkSchema(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		return fmt.Errorf("%s%s: %w", s.prefix(), op, err)
	}
	s.schemaOK.Store(true)
	return nil
}

// GetKeyset returns the named keyset, or an error wrapping kms.ErrNotFound.
func (s *Store) GetKeyset(ctx context.Context, name string) (*kms.KeysetRecord, error) {
	op := fmt.Sprintf("get keyset %q", name)
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkKey("keyset name", name); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	row := s.db.QueryRowContext(ctx, s.q.getKeyset, name)
	rec, err := s.scanKeyset(row)
	if err != nil {
		return nil, s.wrapErr(ctx, op, err)
	}
	return rec, nil
}

// ListKeysets returns every keyset, sorted by name (byte order).
func (s *Store) ListKeysets(ctx context.Context) ([]*kms.KeysetRecord, error) {
	const op = "list keysets"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.listKeysets)
	if err != nil {
		return nil, s.wrapErr(ctx, op, err)
	}
	defer rows.Close()
	recs := []*kms.KeysetRecord{}
	for rows.Next() {
		rec, err := s.scanKeyset(rows)
		if err != nil {
			return nil, s.wrapErr(ctx, op, err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrapErr(ctx, op, err)
	}
	// The database's collation may not be byte order; Go's is.
	slices.SortFunc(recs, func(a, b *kms.KeysetRecord) int { return cmp.Compare(a.Name, b.Name) })
	return recs, nil
}

// PutKeyset writes rec if the stored revision equals rec.Revision (0: the
// keyset must not exist) and then sets rec.Revision to the new revision. It
// is one statement, so it is atomic and a compare-and-swap even between
// processes: an INSERT … ON CONFLICT DO NOTHING for a new keyset (no row
// inserted: kms.ErrAlreadyExists), an UPDATE … WHERE name = ? AND revision
// = ? otherwise (no row updated: kms.ErrConflict).
func (s *Store) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if rec == nil {
		return fmt.Errorf("sqlstore: put keyset: nil record: %w", kms.ErrInvalidArgument)
	}
	op := fmt.Sprintf("put keyset %q", rec.Name)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	args, err := s.keysetArgs(rec)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	next := rec.Revision + 1
	var res sql.Result
	if rec.Revision == 0 {
		res, err = s.db.ExecContext(ctx, s.q.insertKeyset, append([]any{rec.Name, next}, args...)...)
	} else {
		res, err = s.db.ExecContext(ctx, s.q.updateKeyset, append(append([]any{next}, args...), rec.Name, rec.Revision)...)
	}
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	switch {
	case n == 1:
		rec.Revision = next
		return nil
	case rec.Revision == 0:
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrAlreadyExists)
	default:
		return fmt.Errorf("sqlstore: %s: revision %d is not the stored one: %w", op, rec.Revision, kms.ErrConflict)
	}
}

// DeleteKeyset removes a keyset. kms.Admin.Restore uses it to undo a
// restore that failed half way; nothing else should.
func (s *Store) DeleteKeyset(ctx context.Context, name string) error {
	op := fmt.Sprintf("delete keyset %q", name)
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q.deleteKeyset, name)
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrapErr(ctx, op, err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrNotFound)
	}
	return nil
}

// keysetArgs returns the values of purpose, root_key, wrapped_data_key,
// encrypted_keyset, versions, created and updated.
func (s *Store) keysetArgs(rec *kms.KeysetRecord) ([]any, error) {
	if err := checkKey("keyset name", rec.Name); err != nil {
		return nil, err
	}
	if rec.Revision < 0 {
		return nil, fmt.Errorf("negative revision %d: %w", rec.Revision, kms.ErrInvalidArgument)
	}
	if err := checkText("purpose", string(rec.Purpose)); err != nil {
		return nil, err
	}
	if err := checkText("root key name", rec.RootKey); err != nil {
		return nil, err
	}
	if err := checkTime("created", rec.Created); err != nil {
		return nil, err
	}
	if err := checkTime("updated", rec.Updated); err != nil {
		return nil, err
	}
	versions, err := encodeVersions(rec.Versions)
	if err != nil {
		return nil, err
	}
	return []any{
		string(rec.Purpose), rec.RootKey,
		bytesArg(rec.WrappedDataKey), bytesArg(rec.EncryptedKeyset), versions,
		timeArg(s.dialect, rec.Created), timeArg(s.dialect, rec.Updated),
	}, nil
}

func (s *Store) scanKeyset(row interface{ Scan(...any) error }) (*kms.KeysetRecord, error) {
	var (
		rec              kms.KeysetRecord
		purpose          string
		versions         []byte
		created, updated = nullTime{}, nullTime{}
	)
	err := row.Scan(&rec.Name, &purpose, &rec.Revision, &rec.RootKey,
		&rec.WrappedDataKey, &rec.EncryptedKeyset, &versions, &created, &updated)
	if err != nil {
		return nil, err
	}
	rec.Purpose = kms.Purpose(purpose)
	rec.Created, rec.Updated = created.t, updated.t
	if rec.Versions, err = decodeVersions(versions); err != nil {
		return nil, fmt.Errorf("keyset %q: %w", rec.Name, err)
	}
	return &rec, nil
}

// GetSubjectKey returns the subject's key (a tombstone if destroyed) by a
// primary-key lookup, or an error wrapping kms.ErrNotFound. Errors do not
// name the subject, whose ID may itself be personal data.
func (s *Store) GetSubjectKey(ctx context.Context, subjectID string) (*kms.SubjectKeyRecord, error) {
	const op = "get subject key"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkKey("subject ID", subjectID); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	rec := kms.SubjectKeyRecord{SubjectID: subjectID}
	created, destroyed := nullTime{}, nullTime{}
	err := s.db.QueryRowContext(ctx, s.q.getSubject, subjectID).
		Scan(&rec.Keyset, &rec.EncryptedKey, &created, &destroyed)
	if err != nil {
		return nil, s.wrapErr(ctx, op, err)
	}
	rec.Created, rec.Destroyed = created.t, destroyed.t
	return &rec, nil
}

// PutSubjectKey stores a new subject key with one INSERT … ON CONFLICT DO
// NOTHING; it fails with kms.ErrAlreadyExists if the subject has a key or a
// tombstone.
func (s *Store) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
	const op = "put subject key"
	if rec == nil {
		return fmt.Errorf("sqlstore: %s: nil record: %w", op, kms.ErrInvalidArgument)
	}
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	for _, c := range []error{
		checkKey("subject ID", rec.SubjectID),
		checkText("keyset name", rec.Keyset),
		checkTime("created", rec.Created),
		checkTime("destroyed", rec.Destroyed),
	} {
		if c != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, c)
		}
	}
	res, err := s.db.ExecContext(ctx, s.q.insertSubject, rec.SubjectID, rec.Keyset,
		bytesArg(rec.EncryptedKey), timeArg(s.dialect, rec.Created), timeArg(s.dialect, rec.Destroyed))
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrAlreadyExists)
	}
	return nil
}

// DestroySubjectKey overwrites the subject's key with an empty value and
// dates the tombstone at. It fails with kms.ErrNotFound if the subject has
// no record and is a no-op on a tombstone (whose date is kept).
//
// The key bytes are overwritten in the row; whether old copies linger in
// free pages, WAL segments or backups depends on the database: see the
// package documentation.
func (s *Store) DestroySubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	const op = "destroy subject key"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := checkKey("subject ID", subjectID); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if at.IsZero() {
		return fmt.Errorf("sqlstore: %s: zero time: %w", op, kms.ErrInvalidArgument)
	}
	if err := checkTime("destroyed", at); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	res, err := s.db.ExecContext(ctx, s.q.destroySubject, []byte{}, timeArg(s.dialect, at), subjectID)
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	if n == 1 {
		return nil
	}
	// Nothing updated: a tombstone (no-op) or no record. Rows are never
	// deleted, so the answer cannot change between the two statements.
	var one int
	if err := s.db.QueryRowContext(ctx, s.q.subjectExists, subjectID).Scan(&one); err != nil {
		return s.wrapErr(ctx, op, err)
	}
	return nil
}

// ListSubjectKeys returns a page of live subject keys in byte order of the
// subject ID, after cursor (the last subject ID of the previous page): one
// indexed range query per page.
func (s *Store) ListSubjectKeys(ctx context.Context, cursor string, limit int) ([]*kms.SubjectKeyRecord, string, error) {
	const op = "list subject keys"
	if limit <= 0 {
		return nil, "", fmt.Errorf("sqlstore: %s: limit %d: %w", op, limit, kms.ErrInvalidArgument)
	}
	if err := s.begin(ctx, op); err != nil {
		return nil, "", err
	}
	rows, err := s.db.QueryContext(ctx, s.q.listSubjects, cursor, limit)
	if err != nil {
		return nil, "", s.wrapErr(ctx, op, err)
	}
	defer rows.Close()
	var out []*kms.SubjectKeyRecord
	for rows.Next() {
		var (
			rec     kms.SubjectKeyRecord
			created nullTime
		)
		if err := rows.Scan(&rec.SubjectID, &rec.Keyset, &rec.EncryptedKey, &created); err != nil {
			return nil, "", s.wrapErr(ctx, op, err)
		}
		rec.Created = created.t
		out = append(out, &rec)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.wrapErr(ctx, op, err)
	}
	next := ""
	if len(out) == limit {
		next = out[len(out)-1].SubjectID
	}
	return out, next, nil
}

// ReplaceSubjectKey re-encrypts a subject's key in one UPDATE … WHERE the
// stored key is still old and the subject not destroyed: a compare-and-swap
// that never brings a destroyed key back (kms.ErrConflict).
func (s *Store) ReplaceSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord, old []byte) error {
	const op = "replace subject key"
	if rec == nil {
		return fmt.Errorf("sqlstore: %s: nil record: %w", op, kms.ErrInvalidArgument)
	}
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := errors.Join(checkKey("subject ID", rec.SubjectID), checkText("keyset name", rec.Keyset)); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if len(rec.EncryptedKey) == 0 {
		return fmt.Errorf("sqlstore: %s: empty key: %w", op, kms.ErrInvalidArgument)
	}
	res, err := s.db.ExecContext(ctx, s.q.replaceSubject, rec.Keyset, rec.EncryptedKey, rec.SubjectID, bytesArg(old))
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	if err := s.db.QueryRowContext(ctx, s.q.subjectExists, rec.SubjectID).Scan(&one); err != nil {
		return s.wrapErr(ctx, op, err)
	}
	return fmt.Errorf("sqlstore: %s: destroyed or changed since it was read: %w", op, kms.ErrConflict)
}

// checkKey refuses keys that not every dialect can store exactly.
func checkKey(what, v string) error {
	if v == "" {
		return fmt.Errorf("empty %s: %w", what, kms.ErrInvalidArgument)
	}
	return checkText(what, v)
}

// checkText refuses text PostgreSQL cannot store (invalid UTF-8, NUL), so
// that both dialects accept the same values.
func checkText(what, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8: %w", what, kms.ErrInvalidArgument)
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return fmt.Errorf("%s holds a NUL byte: %w", what, kms.ErrInvalidArgument)
		}
	}
	return nil
}
