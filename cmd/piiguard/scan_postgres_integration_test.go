//go:build integration

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanPostgres samples tables of a PostgreSQL database (the server of
// scripts/integration.sh, in a schema of the test's own): a plaintext
// table, a sealed one, and one the user may not read.
func TestScanPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := postgresSpec(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	schema := u.Query().Get("search_path")
	require.NotEmpty(t, schema)

	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec(`CREATE TABLE customers (id bigint PRIMARY KEY, email text, phone varchar(32), profile jsonb, city text, score int)`)
	exec(`INSERT INTO customers VALUES (1, 'lucy@example.com', '+44 20 7946 0958', '{"dob": "1985-03-12"}', 'Whitby', 3)`)
	exec(`INSERT INTO customers VALUES (2, 'mina.harker@example.org', NULL, NULL, 'Exeter', 4)`)

	p := newTestProtector(t)
	exec(`CREATE TABLE sealed_customers (id text PRIMARY KEY, email text, email_index text, phone text)`)
	for _, c := range []sealedCustomer{
		{ID: "cus_1", Email: "lucy@example.com", Phone: "+44 20 7946 0958"},
		{ID: "cus_2", Email: "mina.harker@example.org"},
	} {
		require.NoError(t, p.Seal(ctx, &c))
		exec(`INSERT INTO sealed_customers VALUES ($1, $2, $3, $4)`, c.ID, c.Email, c.EmailIndex, c.Phone)
	}
	// The owner gives up reading its own table: sampling it fails.
	exec(`CREATE TABLE locked (email text)`)
	exec(`REVOKE ALL ON locked FROM CURRENT_USER`)

	tables := strings.Join([]string{schema + ".customers", schema + ".sealed_customers", schema + ".locked"}, ",")
	out, errOut, code := scanCLI(t, "scan", "-json", "-tables", tables, dsn)
	require.Equal(t, exitFound, code, errOut)
	password, _ := u.User.Password()
	require.NotEmpty(t, password)
	assert.NotContains(t, out+errOut, password)
	assert.NotContains(t, out+errOut, os.Getenv("PIIGUARD_TEST_POSTGRES_DSN"))

	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Databases, 1)
	d := rep.Databases[0]
	assert.Equal(t, "postgres:"+u.Host+u.Path, d.Database)
	assert.Empty(t, d.Error)
	got := map[string]tableReport{}
	for _, tr := range d.Tables {
		got[strings.TrimPrefix(tr.Table, schema+".")] = tr
	}
	status := func(table string) map[string]string {
		m := map[string]string{}
		for _, c := range got[table].Columns {
			m[c.Name] = c.Status
		}
		return m
	}
	assert.Equal(t, map[string]string{"email": columnUnsealed, "phone": columnUnsealed, "profile": columnUnsealed, "city": columnClean}, status("customers"))
	assert.Equal(t, map[string]string{"id": columnClean, "email": columnSealed, "email_index": columnSealed, "phone": columnSealed}, status("sealed_customers"))
	assert.Equal(t, 2, got["customers"].RowsSampled)
	assert.Contains(t, got["locked"].Error, "permission denied")
	assert.Equal(t, 1, rep.Summary.Errors)
}
