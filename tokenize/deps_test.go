package tokenize

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHMACAndFPELinkNoDatabaseDriver lists the packages a program using
// only HMAC and format-preserving tokens (testdata/hmacfpe) links: no
// database driver, which only package tokenize/sqlvault imports. (When
// tokenize imported modernc.org/sqlite, such a program grew from 10.4 MB
// to 16.3 MB.) The store package is listed too, to show that the check
// sees a driver where there is one.
func TestHMACAndFPELinkNoDatabaseDriver(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	deps := func(pkg string) []string {
		out, err := exec.Command(gobin, "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.Fields(string(out))
	}
	drivers := func(deps []string) []string {
		var found []string
		for _, dep := range deps {
			for _, d := range []string{"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3"} {
				if dep == d || strings.HasPrefix(dep, d+"/") {
					found = append(found, dep)
				}
			}
		}
		return found
	}

	program := deps("./testdata/hmacfpe")
	require.Contains(t, program, "github.com/piiguard/piiguard/tokenize", "the program uses tokenize")
	assert.Empty(t, drivers(program), "an HMAC/FPE-only program links a database driver")
	assert.NotContains(t, program, "github.com/piiguard/piiguard/tokenize/sqlvault")

	assert.Contains(t, drivers(deps("./sqlvault")), "modernc.org/sqlite", "the store links SQLite, for OpenSQLite")
}
