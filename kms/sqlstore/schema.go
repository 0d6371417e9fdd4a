package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
)

// SchemaVersion is the version of the tables this package writes. Migrate
// brings a database up to it; a database at a later version (written by a
// newer piiguard) is refused with kms.ErrUnsupportedVersion.
const SchemaVersion = 2

// Table names, before the prefix.
const (
	schemaTable   = "piiguard_schema"
	keysetTable   = "piiguard_keysets"
	subjectsTable = "piiguard_subject_keys"
	manifestTable = "piiguard_manifest"
)

// migrations(…)[i] brings the schema from version i to i+1. Each statement is
// idempotent, so that a half-applied migration (SQLite without
// transactional DDL in some setups) can be re-run.
func migrations(d piiguard.Dialect, p string) [][]string {
	blob, text, json, ts, bigint := colTypes(d)
	withoutRowID := ""
	if d == piiguard.SQLite {
		withoutRowID = " WITHOUT ROWID"
	}
	return [][]string{
		{ // 0 → 1
			`CREATE TABLE IF NOT EXISTS ` + p + keysetTable + ` (
	name             ` + text + ` NOT NULL PRIMARY KEY,
	purpose          ` + text + ` NOT NULL,
	revision         ` + bigint + ` NOT NULL CHECK (revision > 0),
	root_key         ` + text + ` NOT NULL,
	wrapped_data_key ` + blob + ` NOT NULL,
	encrypted_keyset ` + blob + ` NOT NULL,
	versions         ` + json + ` NOT NULL,
	created          ` + ts + `,
	updated          ` + ts + `
)`,
			`CREATE TABLE IF NOT EXISTS ` + p + subjectsTable + ` (
	subject_id    ` + text + ` NOT NULL PRIMARY KEY,
	keyset        ` + text + ` NOT NULL,
	encrypted_key ` + blob + ` NOT NULL,
	created       ` + ts + `,
	destroyed     ` + ts + `
)` + withoutRowID,
		},
		{ // 1 → 2: the store's manifest, one row (kms.Manifest).
			`CREATE TABLE IF NOT EXISTS ` + p + manifestTable + ` (
	id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	revision   ` + bigint + ` NOT NULL CHECK (revision > 0),
	root_key   ` + text + ` NOT NULL,
	root_check ` + blob + ` NOT NULL,
	keysets    ` + json + ` NOT NULL,
	created    ` + ts + `,
	updated    ` + ts + `
)`,
		},
	}
}

type queries struct {
	createSchemaTable, schemaVersion, recordVersion string
	lock                                            string // PostgreSQL only
	getKeyset, listKeysets                          string
	insertKeyset, updateKeyset, deleteKeyset        string
	getSubject, insertSubject                       string
	destroySubject, subjectExists                   string
	listSubjects, replaceSubject                    string
	getManifest, insertManifest, updateManifest     string
	migrations                                      [][]string
}

func buildQueries(d piiguard.Dialect, p string) queries {
	_, _, _, ts, _ := colTypes(d)
	now := "CURRENT_TIMESTAMP"
	if d == piiguard.SQLite {
		now = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`
	}
	const keysetCols = `name, purpose, revision, root_key, wrapped_data_key, encrypted_keyset, versions, created, updated`
	byteOrder := "" // SQLite compares text as bytes by default
	if d == piiguard.Postgres {
		byteOrder = ` COLLATE "C"`
	}
	q := queries{
		createSchemaTable: `CREATE TABLE IF NOT EXISTS ` + p + schemaTable + ` (
	version INTEGER NOT NULL PRIMARY KEY,
	applied ` + ts + ` NOT NULL DEFAULT ` + now + `
)`,
		schemaVersion: `SELECT COALESCE(MAX(version), 0) FROM ` + p + schemaTable,
		recordVersion: `INSERT INTO ` + p + schemaTable + ` (version) VALUES (?)`,
		lock:          `SELECT pg_advisory_xact_lock(hashtext(?))`,

		getKeyset:   `SELECT ` + keysetCols + ` FROM ` + p + keysetTable + ` WHERE name = ?`,
		listKeysets: `SELECT ` + keysetCols + ` FROM ` + p + keysetTable + ` ORDER BY name`,
		insertKeyset: `INSERT INTO ` + p + keysetTable + ` (name, revision, purpose, root_key,
	wrapped_data_key, encrypted_keyset, versions, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		updateKeyset: `UPDATE ` + p + keysetTable + ` SET revision = ?, purpose = ?, root_key = ?,
	wrapped_data_key = ?, encrypted_keyset = ?, versions = ?, created = ?, updated = ?
WHERE name = ? AND revision = ?`,

		deleteKeyset: `DELETE FROM ` + p + keysetTable + ` WHERE name = ?`,

		getSubject: `SELECT keyset, encrypted_key, created, destroyed FROM ` + p + subjectsTable + ` WHERE subject_id = ?`,
		insertSubject: `INSERT INTO ` + p + subjectsTable + ` (subject_id, keyset, encrypted_key, created, destroyed)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_id) DO NOTHING`,
		destroySubject: `UPDATE ` + p + subjectsTable + ` SET encrypted_key = ?, destroyed = ?
WHERE subject_id = ? AND destroyed IS NULL`,
		subjectExists: `SELECT 1 FROM ` + p + subjectsTable + ` WHERE subject_id = ?`,
		// Pages in byte order of the subject ID (PostgreSQL's collation
		// might not be).
		listSubjects: `SELECT subject_id, keyset, encrypted_key, created FROM ` + p + subjectsTable + `
WHERE destroyed IS NULL AND subject_id` + byteOrder + ` > ? ORDER BY subject_id` + byteOrder + ` LIMIT ?`,
		replaceSubject: `UPDATE ` + p + subjectsTable + ` SET keyset = ?, encrypted_key = ?
WHERE subject_id = ? AND encrypted_key = ? AND destroyed IS NULL`,

		getManifest: `SELECT revision, root_key, root_check, keysets, created, updated FROM ` + p + manifestTable + ` WHERE id = 1`,
		insertManifest: `INSERT INTO ` + p + manifestTable + ` (id, revision, root_key, root_check, keysets, created, updated)
VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		updateManifest: `UPDATE ` + p + manifestTable + ` SET revision = ?, root_key = ?, root_check = ?, keysets = ?, created = ?, updated = ?
WHERE id = 1 AND revision = ?`,
	}
	for _, s := range []*string{
		&q.recordVersion, &q.lock, &q.getKeyset, &q.insertKeyset, &q.updateKeyset, &q.deleteKeyset,
		&q.getSubject, &q.insertSubject, &q.destroySubject, &q.subjectExists,
		&q.listSubjects, &q.replaceSubject,
		&q.insertManifest, &q.updateManifest,
	} {
		*s = rebind(d, *s)
	}
	q.migrations = migrations(d, p)
	return q
}

// Migrate creates the store's tables, or upgrades them to SchemaVersion.
// It is idempotent and safe to run from several processes at once: on
// PostgreSQL the migration holds a transaction-scoped advisory lock, on
// SQLite a write (IMMEDIATE) transaction. It fails with an error wrapping
// kms.ErrUnsupportedVersion if the database was migrated by a newer
// piiguard.
//
// Stores run Migrate on first use unless Options.NoAutoMigrate is set.
func (s *Store) Migrate(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlstore: migrate: %w", kms.ErrClosed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("%s%w", s.prefix(), err)
	}
	s.schemaOK.Store(true)
	return nil
}

// migrate runs the migrations; errors are classified, without the
// "sqlstore: " prefix.
func (s *Store) migrate(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("migrate: %w", classify(ctx, s.dialect, err))
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// One transaction. database/sql's BeginTx cannot ask SQLite for an
	// IMMEDIATE transaction (which takes the write lock at once, so two
	// migrating processes queue on busy_timeout instead of deadlocking), so
	// the SQLite transaction is begun by hand on a dedicated connection.
	var exec func(q string, args ...any) error
	var queryInt func(q string) (int, error)
	var commit, rollback func() error
	if s.dialect == piiguard.SQLite {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		exec = func(q string, args ...any) error { _, err := conn.ExecContext(ctx, q, args...); return err }
		queryInt = func(q string) (n int, err error) { err = conn.QueryRowContext(ctx, q).Scan(&n); return n, err }
		commit = func() error { _, err := conn.ExecContext(ctx, "COMMIT"); return err }
		rollback = func() error { _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); return err }
	} else {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		exec = func(q string, args ...any) error { _, err := tx.ExecContext(ctx, q, args...); return err }
		queryInt = func(q string) (n int, err error) { err = tx.QueryRowContext(ctx, q).Scan(&n); return n, err }
		commit = tx.Commit
		rollback = tx.Rollback
	}
	done := false
	defer func() {
		if !done {
			_ = rollback()
		}
	}()

	if s.dialect == piiguard.Postgres {
		// Concurrent CREATE TABLE IF NOT EXISTS can fail in PostgreSQL
		// (a unique violation in pg_type); serialize migrations.
		if err := exec(s.q.lock, s.opts.TablePrefix+schemaTable); err != nil {
			return err
		}
	}
	if err := exec(s.q.createSchemaTable); err != nil {
		return err
	}
	have, err := queryInt(s.q.schemaVersion)
	if err != nil {
		return err
	}
	if have > SchemaVersion {
		return fmt.Errorf("database schema version %d is newer than this piiguard's %d: %w",
			have, SchemaVersion, kms.ErrUnsupportedVersion)
	}
	for v := have + 1; v <= SchemaVersion; v++ {
		for _, stmt := range s.q.migrations[v-1] {
			if err := exec(stmt); err != nil {
				return fmt.Errorf("to version %d: %w", v, err)
			}
		}
		if err := exec(s.q.recordVersion, v); err != nil {
			return err
		}
	}
	if err := commit(); err != nil {
		return err
	}
	done = true
	return nil
}

// checkSchema makes sure the database is at SchemaVersion without changing
// it (Options.NoAutoMigrate).
func (s *Store) checkSchema(ctx context.Context) error {
	var have int
	err := s.db.QueryRowContext(ctx, s.q.schemaVersion).Scan(&have)
	if err != nil {
		if ctx.Err() == nil && isMissingTable(err) {
			have = 0
		} else {
			return fmt.Errorf("check schema: %w", classify(ctx, s.dialect, err))
		}
	}
	switch {
	case have > SchemaVersion:
		return fmt.Errorf("check schema: database schema version %d is newer than this piiguard's %d: %w",
			have, SchemaVersion, kms.ErrUnsupportedVersion)
	case have < SchemaVersion:
		return fmt.Errorf("check schema: database schema version %d, this piiguard needs %d (run Migrate): %w",
			have, SchemaVersion, kms.ErrUnsupportedVersion)
	}
	return nil
}

// isMissingTable reports whether err says that a table does not exist.
func isMissingTable(err error) bool {
	var st sqlStater
	if errors.As(err, &st) {
		return st.SQLState() == "42P01" // undefined_table
	}
	return strings.Contains(err.Error(), "no such table")
}
