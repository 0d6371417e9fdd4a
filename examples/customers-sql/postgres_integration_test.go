//go:build integration

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProgramOnPostgres runs the demo's flow on a real PostgreSQL server,
// started by scripts/integration.sh, which exports its URL in
// PIIGUARD_TEST_POSTGRES_DSN. Under the integration tag a missing server is
// a failure, never a skip. The table has a name no other test uses and is
// dropped at the end.
func TestProgramOnPostgres(t *testing.T) {
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal("PIIGUARD_TEST_POSTGRES_DSN is not set: run the integration tests with scripts/integration.sh (make integration)")
	}
	ctx := context.Background()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() }) // after the table is dropped
	require.NoError(t, db.PingContext(ctx), "connect to PIIGUARD_TEST_POSTGRES_DSN")

	b := make([]byte, 6)
	_, err = rand.Read(b)
	require.NoError(t, err)
	table := "customers_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, err := db.Exec("DROP TABLE IF EXISTS " + table)
		assert.NoError(t, err)
	})

	kr, err := demoKeyring(ctx)
	require.NoError(t, err)
	defer kr.Close()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, db, Postgres, table, kr))
	checkOutput(t, out.String())

	// What PostgreSQL holds: ciphertext and indexes, never the values.
	var name, email, dob string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT name, email, birth_date FROM "+table+" WHERE id = $1", "cus_1001").Scan(&name, &email, &dob))
	for _, v := range []string{name, email, dob} {
		assert.Regexp(t, `^pg1\.[A-Za-z0-9_-]+$`, v)
	}
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE name LIKE '%Westenra%' OR email LIKE '%westenra%'").Scan(&n))
	assert.Zero(t, n)
}
