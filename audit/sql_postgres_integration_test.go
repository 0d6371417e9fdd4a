//go:build integration

package audit_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
)

// TestSQLSinkPostgres runs the SQL sink suite against the PostgreSQL server
// named by PIIGUARD_TEST_POSTGRES_DSN (a pgx URL), which `make integration`
// starts. Under the integration tag a missing server is a failure, not a skip.
func TestSQLSinkPostgres(t *testing.T) {
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal("PIIGUARD_TEST_POSTGRES_DSN is not set: the integration tests need PostgreSQL")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	require.NoError(t, db.PingContext(ctx))

	// A schema of its own, so runs do not see each other's rows.
	schema := "audit_test_" + randomSuffix(t)
	_, err = db.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	db.SetMaxOpenConns(1) // keep search_path on the one connection
	_, err = db.ExecContext(ctx, "SET search_path TO "+schema)
	require.NoError(t, err)

	runSQLSinkSuite(t, db, piiguard.Postgres)
}
