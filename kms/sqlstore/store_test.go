package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

func openSQLite(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestSQLiteStoreConformance(t *testing.T) {
	kmstest.RunStoreTests(t, func(t *testing.T) kms.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "keys.db"))
	})
}

func TestSQLiteTwoStoresRotatingOneFileLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	kmstest.RunConcurrentRotations(t, []kms.Store{a, b}, 4, 10)
}

func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?#%& dir")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "keys?.db")
	s := openSQLite(t, path)
	rec := &kms.KeysetRecord{Name: "k", Purpose: kms.PurposePRF}
	require.NoError(t, s.PutKeyset(t.Context(), rec))
	_, err := os.Stat(path)
	require.NoError(t, err, "the database is the named file, not a URI reading of it")
}

func TestSQLiteUsesWALAndBusyTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	openSQLite(t, path)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode, "WAL is persistent in the file")
}

func TestOpenSQLiteMissingDirectoryIsUnavailable(t *testing.T) {
	_, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "no", "such", "dir", "keys.db"))
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "sqlstore: ")
}

func TestNewRefusesBadArguments(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	defer db.Close()
	for name, f := range map[string]func() error{
		"nil db":       func() error { _, err := sqlstore.New(nil, piiguard.SQLite, sqlstore.Options{}); return err },
		"zero dialect": func() error { _, err := sqlstore.New(db, 0, sqlstore.Options{}); return err },
		"upper prefix": func() error {
			_, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{TablePrefix: "App_"})
			return err
		},
		"quote in prefix": func() error {
			_, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{TablePrefix: `a";drop`})
			return err
		},
		"digit first": func() error {
			_, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{TablePrefix: "1a"})
			return err
		},
	} {
		assert.ErrorIs(t, f(), kms.ErrInvalidArgument, name)
	}
}

func TestSQLiteRefusesValuesPostgresCannotStore(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "keys.db"))
	ctx := t.Context()
	for _, id := range []string{"", "nul\x00byte", "bad\xffutf8"} {
		err := s.PutSubjectKey(ctx, &kms.SubjectKeyRecord{SubjectID: id, Keyset: "k"})
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, "%q", id)
		_, err = s.GetSubjectKey(ctx, id)
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, "%q", id)
	}
	assert.ErrorIs(t, s.PutKeyset(ctx, nil), kms.ErrInvalidArgument)
	assert.ErrorIs(t, s.PutKeyset(ctx, &kms.KeysetRecord{Name: "k", Revision: -1}), kms.ErrInvalidArgument)
	assert.ErrorIs(t, s.DestroySubjectKey(ctx, "x", time.Time{}), kms.ErrInvalidArgument)
}

func TestClosedStoreFailsWithErrClosed(t *testing.T) {
	s, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "keys.db"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	ctx := t.Context()
	_, err = s.GetKeyset(ctx, "k")
	assert.ErrorIs(t, err, kms.ErrClosed)
	_, err = s.ListKeysets(ctx)
	assert.ErrorIs(t, err, kms.ErrClosed)
	assert.ErrorIs(t, s.PutKeyset(ctx, &kms.KeysetRecord{Name: "k"}), kms.ErrClosed)
	_, err = s.GetSubjectKey(ctx, "s")
	assert.ErrorIs(t, err, kms.ErrClosed)
	assert.ErrorIs(t, s.PutSubjectKey(ctx, &kms.SubjectKeyRecord{SubjectID: "s"}), kms.ErrClosed)
	assert.ErrorIs(t, s.DestroySubjectKey(ctx, "s", time.Now()), kms.ErrClosed)
	assert.ErrorIs(t, s.Migrate(ctx), kms.ErrClosed)
}

func TestNewLeavesCallersDBOpen(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	s, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, db.Ping(), "Close of a Store made by New leaves the *sql.DB open")
}

func TestTablePrefixesKeepStoresApart(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	defer db.Close()
	ctx := t.Context()
	a, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{TablePrefix: "app_a_"})
	require.NoError(t, err)
	b, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{TablePrefix: "app_b_"})
	require.NoError(t, err)
	require.NoError(t, a.PutKeyset(ctx, &kms.KeysetRecord{Name: "k", Purpose: kms.PurposeAEAD}))
	_, err = b.GetKeyset(ctx, "k")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM app_a_piiguard_keysets").Scan(&n))
	assert.Equal(t, 1, n)
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openSQLite(t, path)
	ctx := t.Context()
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx))

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var v int
	require.NoError(t, db.QueryRow("SELECT MAX(version) FROM piiguard_schema").Scan(&v))
	assert.Equal(t, sqlstore.SchemaVersion, v)

	_, err = db.Exec("INSERT INTO piiguard_schema (version) VALUES (?)", sqlstore.SchemaVersion+1)
	require.NoError(t, err)
	_, err = sqlstore.OpenSQLite(path)
	require.ErrorIs(t, err, kms.ErrUnsupportedVersion)

	newer, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{NoAutoMigrate: true})
	require.NoError(t, err)
	_, err = newer.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, kms.ErrUnsupportedVersion)
}

func TestNoAutoMigrateCreatesNothing(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	defer db.Close()
	ctx := t.Context()
	s, err := sqlstore.New(db, piiguard.SQLite, sqlstore.Options{NoAutoMigrate: true})
	require.NoError(t, err)
	_, err = s.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, kms.ErrUnsupportedVersion, "an unmigrated database is reported, not created")
	assert.Contains(t, err.Error(), "run Migrate")

	require.NoError(t, s.Migrate(ctx))
	_, err = s.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, kms.ErrNotFound)
}

func TestConcurrentMigrationsOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			s, err := sqlstore.OpenSQLite(path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}

func TestCorruptVersionsAreErrCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openSQLite(t, path)
	ctx := t.Context()
	require.NoError(t, s.PutKeyset(ctx, &kms.KeysetRecord{Name: "k", Purpose: kms.PurposeAEAD}))
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE piiguard_keysets SET versions = '[{"id":' WHERE name = 'k'`)
	require.NoError(t, err)
	_, err = s.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, kms.ErrCorrupt)
	_, err = s.ListKeysets(ctx)
	require.ErrorIs(t, err, kms.ErrCorrupt)
}

func TestDeadlineIsReported(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "keys.db"))
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, piiguard.CodeDeadlineExceeded, piiguard.ErrorCode(err))
}

func TestDeleteKeysetUndoesARestore(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "keys.db"))
	require.NoError(t, err)
	defer s.Close()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	for _, n := range []string{"a", "b"} {
		_, err := kms.NewAdmin(kr).Create(ctx, n, kms.PurposeAEAD)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err = kms.NewAdmin(kr).Backup(ctx, &buf)
	require.NoError(t, err)
	kr2, err := kms.NewKeyring(root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr2).Restore(ctx, &buf, "backup")
	require.NoError(t, err)
	require.NoError(t, s.DeleteKeyset(ctx, "a"))
	require.ErrorIs(t, s.DeleteKeyset(ctx, "a"), kms.ErrNotFound)
	left, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	require.Len(t, left, 1)
}

func TestSQLiteSubjectRewrap(t *testing.T) {
	kmstest.RunSubjectRewrap(t, openSQLite(t, filepath.Join(t.TempDir(), "keys.db")))
}

// TestSchemaV1StoreMigratesAndIsAdopted: a key store written at schema
// version 1 (before the manifest table) is migrated in place, keeps its
// keysets, and gets a manifest from its own root key on the next create.
func TestSchemaV1StoreMigratesAndIsAdopted(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keys.db")
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "root"})
	defer root.Close()
	s, err := sqlstore.OpenSQLite(path)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "fields", kms.PurposeAEAD))
	require.NoError(t, s.Close())

	// Back to schema version 1: what an older piiguard left.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, q := range []string{`DROP TABLE piiguard_manifest`, `DELETE FROM piiguard_schema WHERE version = 2`} {
		_, err := db.Exec(q)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())

	s = openSQLite(t, path)
	_, err = s.GetManifest(ctx)
	require.ErrorIs(t, err, kms.ErrNotFound, "migrated, with no manifest yet")
	kr, err = kms.NewKeyring(root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	a, err := kr.AEAD(ctx, "fields")
	require.NoError(t, err, "the version 1 keyset still opens")
	_, err = a.Encrypt([]byte("x"), nil)
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "search", kms.PurposePRF))
	m, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"fields", "search"}, m.Keysets)
	assert.Equal(t, "root", m.RootKey)
}
