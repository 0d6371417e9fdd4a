package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProgram runs the program as `go run` would, on a SQLite file, and
// checks what it prints and what it leaves in the file.
func TestProgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.db")
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-db", path}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	checkOutput(t, stdout.String())

	// The database file holds no personal data in the clear.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, s := range []string{"Westenra", "lucy.westenra", "Harker", "Helsing", "7946", "11010519491231002X", "AB123456C", "1987-04-12", "Renfield"} {
		assert.NotContains(t, string(raw), s)
	}
	assert.Contains(t, string(raw), "Whitby", "untagged columns are stored as they are")
}

func TestProgramWithTemporaryDatabase(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain(nil, &stdout, &stderr), stderr.String())
	require.Equal(t, 2, realMain([]string{"-nope"}, &stdout, &stderr))
}

func checkOutput(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"cus_1001  name=pg1.",
		"email_index=bi1.",
		"refused: ", // the drivers word it differently, around piiguard's error:
		"pii: plaintext where a protected value belongs: refusing to write an unsealed pii.String to the database",
		"search terms: 1, found: 1",
		"cus_1001  Lucy Westenra  lucy.westenra@example.com  born 1987-04-12",
		"cus_1001  L. W.  l***@example.com  *** **** 8000  **************002X  1987-**-**  Whitby",
		"search terms: 2 (one per enabled search key version), found: 2",
		"cus_1001  Lucy Westenra  Whitby",
		"cus_1004  Lucy Westenra  London",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Renfield")
}

// TestStoreOnSQLite exercises the store on its own.
func TestStoreOnSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "s.db"))
	require.NoError(t, err)
	defer db.Close()
	kr, err := demoKeyring(ctx)
	require.NoError(t, err)
	defer kr.Close()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, db, SQLite, "customers", kr))
	checkOutput(t, out.String())
	assert.Equal(t, "INSERT ($1, $2)", Postgres.bind("INSERT (?, ?)"))
	assert.Equal(t, "x", short("x"))
}

// TestProgramRefusesRowsSealedByAnEarlierRun: a second run on the same file
// would seal new rows beside ones whose in-memory keys are gone; it stops
// and changes nothing instead.
func TestProgramRefusesRowsSealedByAnEarlierRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.db")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"-db", path}, &stdout, &stderr), stderr.String())
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	stderr.Reset()
	assert.Equal(t, 1, realMain([]string{"-db", path}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "already holds 4 sealed rows from an earlier run")
	assert.Contains(t, stderr.String(), "new -db file")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the database is unchanged")
}
