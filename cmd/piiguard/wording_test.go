package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorsDoNotEndInTheSentinel: the CLI's own messages say what is wrong
// and stop there, without a trailing ": invalid argument".
func TestErrorsDoNotEndInTheSentinel(t *testing.T) {
	e := newEnv(t, "sqlite")
	t.Setenv(passEnv, "")
	_, errOut := e.fail(exitFailed, "keys", "list", "-store", "sqlite:"+e.dir)
	assert.Contains(t, errOut, "is a directory, not an SQLite file")
	assert.False(t, strings.HasSuffix(strings.TrimSpace(strings.Split(errOut, "\n")[0]), "invalid argument"), errOut)

	c := testCLI()
	_, errOut, code := runCLI(t, c, "keys", "init", "-root", localURI(t.TempDir()+"/new/root.key", "PIIGUARD_TEST_UNSET_VAR"))
	require.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "is unset or empty")
	assert.NotContains(t, errOut, "invalid argument")
}

// TestPostgresStoreErrorsNameTheHostNeverThePassword: a PostgreSQL store
// that cannot be reached is named by host, port and database.
func TestPostgresStoreErrorsNameTheHostNeverThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	spec := "postgres://app:" + pgPassword + "@" + addr + "/keysdb?sslmode=disable&connect_timeout=2"
	_, errOut, code := runCLI(t, testCLI(), "keys", "list", "-store", spec)
	require.Equal(t, exitFailed, code, errOut)
	assert.Contains(t, errOut, addr+"/keysdb")
	assert.NotContains(t, errOut, "app:")
}

// TestPostgresStoreNeedsTLSToAnotherMachine: a store on another machine is
// refused before any connection unless the URL verifies the server
// (sslmode=verify-full), or PIIGUARD_PG_TLS_REASON states why require is
// enough.
func TestPostgresStoreNeedsTLSToAnotherMachine(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	t.Setenv(envPGTLSReason, "")
	for spec, want := range map[string]string{
		"postgres://app:" + pgPassword + "@db.example.com/keys":                 "could go unencrypted",
		"postgres://app:" + pgPassword + "@db.example.com/keys?sslmode=prefer":  "could go unencrypted",
		"postgres://app:" + pgPassword + "@db.example.com/keys?sslmode=require": "not verified",
	} {
		_, errOut, code := runCLI(t, testCLI(), "keys", "list", "-store", spec)
		require.Equal(t, exitFailed, code, errOut)
		assert.Contains(t, errOut, want, spec)
		assert.Contains(t, errOut, "db.example.com/keys")
	}
}
