package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoOutputHoldsASecret runs every command, in ways that succeed and in
// ways that fail, and checks (in runCLI) that no passphrase and no database
// password reaches stdout or stderr; then that none reached a file the
// commands wrote.
func TestNoOutputHoldsASecret(t *testing.T) {
	e := newEnv(t, "sqlite")
	t.Setenv(passEnv2, passphrase2)
	t.Setenv("WEAK_PASS", weakPassword)
	auditLog := filepath.Join(e.dir, "audit.jsonl")
	backup := filepath.Join(e.dir, "backup.json")
	root2 := localURI(filepath.Join(e.dir, "root2.key"), passEnv2)
	keyPath := filepath.ToSlash(filepath.Join(e.dir, "root.key"))
	pg := "postgres://piiguard:" + pgPassword + "@127.0.0.1:1/keys?connect_timeout=2&sslmode=disable"

	e.ok("keys", "create", "fields", "aead", "-audit", auditLog)
	e.ok("keys", "create", "chain", "mac", "-audit", auditLog)
	v2 := keyID(t, e.ok("keys", "rotate", "fields", "-audit", auditLog))
	e.ok("keys", "list")
	e.ok("keys", "backup", backup, "-audit", auditLog)
	e.ok("keys", "verify", "-audit", auditLog)
	e.ok("keys", "verify-backup", backup, "-audit", auditLog)
	e.ok("keys", "init", "-root", root2)

	failures := [][]string{
		// Passphrases where they do not belong.
		{"keys", "verify", "-root", "local://" + keyPath + "?passphrase=" + passphrase},
		{"keys", "verify", "-root", "local://" + keyPath + "?passphrase_env=" + passEnv + "&" + passphrase + "=x"},
		{"keys", "verify", "-root", "local://admin:" + passphrase + "@/" + keyPath + "?passphrase_env=" + passEnv},
		{"keys", "verify", "-root", "local://" + keyPath + "?passphrase_env=" + passEnv + "#" + passphrase},
		{"keys", "verify", "-root", passphrase + "://x"},
		{"keys", "verify", "-root", "%%" + passphrase},
		{"keys", "init", "-root", "local://" + keyPath + "?passphrase=" + passphrase},
		{"keys", "init", "-root", "local://" + filepath.ToSlash(filepath.Join(e.dir, "weak.key")) + "?passphrase_env=WEAK_PASS"},
		{"keys", "rewrap", "-to", "local://" + keyPath + "2?passphrase=" + passphrase},
		// The wrong passphrase, and the right one for the wrong file.
		{"keys", "verify", "-root", localURI(filepath.Join(e.dir, "root.key"), passEnv2)},
		{"keys", "verify", "-root", localURI(filepath.Join(e.dir, "root2.key"), passEnv)},
		{"keys", "verify-backup", backup, "-root", root2},
		// Operations that fail.
		{"keys", "create", "fields", "aead", "-audit", auditLog},
		{"keys", "destroy", "fields", v2},
		{"keys", "disable", "fields", v2, "-audit", auditLog},
		{"keys", "promote", "fields", "7", "-audit", auditLog},
		{"keys", "backup", backup},
		{"keys", "restore", backup, "-audit", auditLog},
		{"keys", "restore", filepath.Join(e.dir, "root.key"), "-store", storeSpec("file", e.dir, "r")},
		{"keys", "verify-backup", filepath.Join(e.dir, "root.key")},
		{"audit", "verify", "-mac-keyset", "chain", "-sign-keyset", "fields", auditLog},
		{"audit", "query", "-since", passphrase, auditLog},
		{"audit", "query", filepath.Join(e.dir, "root.key")},
		// Secrets pasted in the wrong place.
		{passphrase},
		{"keys", passphrase},
		{"keys", "list", "-" + passphrase},
		{"keys", "destroy", "-yes=" + passphrase, "fields", v2},
		{"audit", "query", "-limit", passphrase, auditLog},
		{"audit", "query", "-outcome", passphrase, auditLog},
		{"keys", "promote", "fields", passphrase},
		{"keys", "create", "x", passphrase},
		// A PostgreSQL store whose URL holds a password, unreachable.
		{"keys", "list", "-store", pg},
		{"keys", "verify", "-store", pg},
		{"keys", "list", "-store", "mysql://piiguard:" + pgPassword + "@db/keys"},
		{"keys", "list", "-store", "postgres://piiguard:" + pgPassword + "@[::1"},
	}
	for _, args := range failures {
		out, errOut, code := e.run(args...)
		assert.NotEqual(t, exitOK, code, "%q succeeded:\n%s", args, out)
		assert.NotEmpty(t, errOut, "%q failed without a word", args)
	}

	// Nor did a secret reach a file a command wrote.
	for _, path := range []string{auditLog, backup, filepath.Join(e.dir, "root.key"), filepath.Join(e.dir, "root2.key"), filepath.Join(e.dir, "keys.db")} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, s := range secrets {
			assert.False(t, strings.Contains(strings.ToLower(string(data)), strings.ToLower(s)), "%s holds a secret", path)
		}
	}
}
