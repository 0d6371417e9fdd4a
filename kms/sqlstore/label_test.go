package sqlstore_test

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

func TestSQLiteErrorsNameTheFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openSQLite(t, path)
	require.NoError(t, s.PutKeyset(ctx, &kms.KeysetRecord{Name: "k", Purpose: kms.PurposeAEAD}))

	// Tables dropped behind the store's back.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	for _, table := range []string{"piiguard_keysets", "piiguard_subject_keys"} {
		_, err = db.Exec("DROP TABLE " + table)
		require.NoError(t, err)
	}
	want := fmt.Sprintf("sqlstore: sqlite %q: ", path)
	_, err = s.GetKeyset(ctx, "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), want+`get keyset "k": `)
	assert.Contains(t, err.Error(), "no such table")
	_, err = s.ListKeysets(ctx)
	assert.ErrorContains(t, err, want+"list keysets: ")
	_, err = s.GetSubjectKey(ctx, "someone")
	assert.ErrorContains(t, err, want+"get subject key: ")
	assert.NotContains(t, err.Error(), "someone", "subject IDs stay out of messages")

	// A file that is not a database.
	bad := filepath.Join(t.TempDir(), "not-a-database.db")
	require.NoError(t, os.WriteFile(bad, []byte("this is not an SQLite database file, only some text in it"), 0o600))
	_, err = sqlstore.OpenSQLite(bad)
	require.ErrorIs(t, err, kms.ErrCorrupt)
	assert.ErrorContains(t, err, fmt.Sprintf("sqlstore: sqlite %q: open: ", bad))
}

func TestNewWithLabelNamesTheDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keys.db")
	openSQLite(t, path) // creates the file and its tables

	// Read-only: a write is refused by SQLite.
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer ro.Close()
	s, err := sqlstore.New(ro, piiguard.SQLite, sqlstore.Options{Label: path})
	require.NoError(t, err)
	err = s.PutKeyset(ctx, &kms.KeysetRecord{Name: "k", Purpose: kms.PurposeAEAD})
	require.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.ErrorContains(t, err, fmt.Sprintf(`sqlstore: sqlite %q: put keyset "k": permission denied: `, path))

	// Closed: the first use fails in the schema check.
	closed, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	s, err = sqlstore.New(closed, piiguard.SQLite, sqlstore.Options{Label: "keys.db"})
	require.NoError(t, err)
	_, err = s.GetKeyset(ctx, "k")
	require.ErrorIs(t, err, kms.ErrClosed)
	assert.Equal(t, `sqlstore: sqlite "keys.db": get keyset "k": migrate: sql: database is closed`, err.Error(),
		"the database is named, and closed is said once")
	assert.ErrorIs(t, s.Migrate(ctx), kms.ErrClosed)
	assert.ErrorContains(t, s.Migrate(ctx), `sqlstore: sqlite "keys.db": migrate: `)

	// Without a label, messages are as they were.
	s, err = sqlstore.New(closed, piiguard.SQLite, sqlstore.Options{})
	require.NoError(t, err)
	_, err = s.GetKeyset(ctx, "k")
	assert.ErrorContains(t, err, `sqlstore: get keyset "k": migrate: `)
}

func TestPostgresErrorsNameTheHostNeverThePassword(t *testing.T) {
	// A port that was free a moment ago: nothing listens there, so no
	// server is needed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	dsn := "postgres://piiguard:s3cret-pw@" + addr + "/app?connect_timeout=5&sslmode=disable&password=s3cret-pw"
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	label := sqlstore.PostgresLabel(dsn)
	assert.Equal(t, addr+"/app", label)
	s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{Label: label})
	require.NoError(t, err)
	_, err = s.GetKeyset(t.Context(), "k")
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), fmt.Sprintf(`sqlstore: postgres %q: get keyset "k": `, addr+"/app"))
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.NotContains(t, err.Error(), dsn)
}

func TestPostgresLabelDropsUserPasswordAndParameters(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://piiguard:s3cret-pw@db.example.com:5432/app?sslmode=require":     "db.example.com:5432/app",
		"host=db.example.com port=5432 dbname=app user=piiguard password=s3cret-pw": "db.example.com:5432/app",
		"postgres://piiguard:s3cret/pw@db.example.com/app":                          "", // malformed: the host cannot be told from the password
		"s3cret-pw": "",
	} {
		assert.Equal(t, want, sqlstore.PostgresLabel(dsn), "%q", dsn)
	}
}
