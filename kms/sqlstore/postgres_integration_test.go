//go:build integration

package sqlstore_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// These tests run against a real PostgreSQL server, started by
// scripts/integration.sh, which exports its URL in
// PIIGUARD_TEST_POSTGRES_DSN. Under the integration tag a missing server is
// a failure, never a skip. Every store gets its own table prefix, so tests
// and packages running in parallel on one database do not collide.

var (
	pgOnce sync.Once
	pgDB   *sql.DB
	pgErr  error
)

// postgresDB returns the shared pool for the test server.
func postgresDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal("PIIGUARD_TEST_POSTGRES_DSN is not set: run the integration tests with scripts/integration.sh (make integration)")
	}
	pgOnce.Do(func() {
		pgDB, pgErr = sql.Open("pgx", dsn)
		if pgErr == nil {
			pgDB.SetMaxOpenConns(20)
			pgErr = pgDB.PingContext(t.Context())
		}
	})
	require.NoError(t, pgErr, "connect to PIIGUARD_TEST_POSTGRES_DSN")
	return pgDB
}

// newPrefix returns a table prefix no other test uses.
func newPrefix(t testing.TB) string {
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "t" + hex.EncodeToString(b) + "_"
}

// newPostgresStore returns a store over its own tables, dropped when t ends.
func newPostgresStore(t testing.TB, prefix string) *sqlstore.Store {
	t.Helper()
	db := postgresDB(t)
	s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	t.Cleanup(func() {
		for _, table := range []string{"piiguard_keysets", "piiguard_subject_keys", "piiguard_schema"} {
			_, err := db.Exec("DROP TABLE IF EXISTS " + prefix + table)
			assert.NoError(t, err)
		}
	})
	return s
}

func TestPostgresStoreConformance(t *testing.T) {
	kmstest.RunStoreTests(t, func(t *testing.T) kms.Store {
		return newPostgresStore(t, newPrefix(t))
	})
}

func TestPostgresTwoStoresRotatingLoseNothing(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	a := newPostgresStore(t, prefix)
	b, err := sqlstore.New(postgresDB(t), piiguard.Postgres, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	kmstest.RunConcurrentRotations(t, []kms.Store{a, b}, 4, 10)
}

func TestPostgresConcurrentMigrations(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	db := postgresDB(t)
	t.Cleanup(func() {
		for _, table := range []string{"piiguard_keysets", "piiguard_subject_keys", "piiguard_schema"} {
			_, _ = db.Exec("DROP TABLE IF EXISTS " + prefix + table)
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{TablePrefix: prefix})
			if err == nil {
				err = s.Migrate(t.Context())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	var v int
	require.NoError(t, db.QueryRow("SELECT MAX(version) FROM "+prefix+"piiguard_schema").Scan(&v))
	assert.Equal(t, sqlstore.SchemaVersion, v)
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	newPostgresStore(t, prefix)
	db := postgresDB(t)
	_, err := db.Exec("INSERT INTO "+prefix+"piiguard_schema (version) VALUES ($1)", sqlstore.SchemaVersion+1)
	require.NoError(t, err)
	s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{TablePrefix: prefix})
	require.NoError(t, err)
	_, err = s.GetKeyset(t.Context(), "k")
	require.ErrorIs(t, err, kms.ErrUnsupportedVersion)
}

func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	db, err := sql.Open("pgx", "postgres://nobody@"+addr+"/none?connect_timeout=5&sslmode=disable")
	require.NoError(t, err)
	defer db.Close()
	s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{})
	require.NoError(t, err)
	_, err = s.GetKeyset(t.Context(), "k")
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Equal(t, piiguard.CodeUnavailable, piiguard.ErrorCode(err))
}

func TestPostgresWrongPasswordIsPermissionDenied(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	require.NotEmpty(t, dsn, "PIIGUARD_TEST_POSTGRES_DSN")
	// The server started by scripts/integration.sh asks for a password
	// (scram-sha-256) on TCP.
	u, err := url.Parse(dsn)
	require.NoError(t, err, "PIIGUARD_TEST_POSTGRES_DSN must be a postgres:// URL")
	u.User = url.UserPassword(u.User.Username(), "wrong-password")
	db, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	defer db.Close()
	s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{TablePrefix: newPrefix(t)})
	require.NoError(t, err)
	_, err = s.GetKeyset(t.Context(), "k")
	require.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.NotContains(t, err.Error(), "wrong-password")
}

func TestPostgresSubjectRewrap(t *testing.T) {
	kmstest.RunSubjectRewrap(t, newPostgresStore(t, newPrefix(t)))
}
