//go:build integration

package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postgresSpec returns a -store spec on the PostgreSQL server that
// scripts/integration.sh starts (PIIGUARD_TEST_POSTGRES_DSN), in a schema of
// its own, so that the store's tables collide with no other test's. Under
// the integration tag a missing server is a failure, never a skip.
func postgresSpec(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal("PIIGUARD_TEST_POSTGRES_DSN is not set: run the integration tests with scripts/integration.sh (make integration)")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "cmd_" + hex.EncodeToString(b)
	_, err = db.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgresStore(t *testing.T) {
	e := newEnv(t, "file")
	pg := postgresSpec(t)
	v1 := keyID(t, e.ok("keys", "create", "fields", "aead", "-store", pg))
	e.ok("keys", "create", "index", "prf", "-store", pg)
	e.ok("keys", "rotate", "fields", "-store", pg)
	assert.Regexp(t, `(?m)^fields\s+aead\s+1\s+`+v1+`\s+enabled\s+\d{4}-`, e.ok("keys", "list", "-store", pg))
	e.ok("keys", "disable", "fields", v1, "-store", pg)
	assert.Contains(t, e.ok("keys", "verify", "-store", pg), "OK: 2 keysets opened, 3 versions checked")

	backup := filepath.Join(e.dir, "backup.json")
	e.ok("keys", "backup", backup, "-store", pg)
	out := e.ok("keys", "restore", backup, "-store", "sqlite:"+filepath.Join(e.dir, "restored.db"))
	assert.Contains(t, out, "OK: 2 keysets opened, 3 versions checked")
	_, errOut := e.fail(exitFailed, "keys", "restore", backup, "-store", pg)
	assert.Contains(t, errOut, "not empty")

	t.Setenv(passEnv2, passphrase2)
	root2 := localURI(filepath.Join(e.dir, "root2.key"), passEnv2)
	e.ok("keys", "init", "-root", root2)
	e.ok("keys", "rewrap", "-to", root2, "-store", pg)
	e.ok("keys", "verify", "-root", root2, "-store", pg)
}
