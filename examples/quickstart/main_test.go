package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// runQuickstart runs the quickstart on dir and returns stdout, stderr and
// the error.
func runQuickstart(t *testing.T, dir string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), &out, &errOut, dir)
	return out.String(), errOut.String(), err
}

// TestQuickstartRunsTwice runs the quickstart on a fresh data folder, then
// again on the same folder: the second run reuses the root key, the keysets
// and the customers, and says so.
func TestQuickstartRunsTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, errOut, err := runQuickstart(t, dir)
	require.NoError(t, err)
	assert.Contains(t, out, "first run: creating root key file")
	assert.Contains(t, out, "search \"  Ada.Lovelace@EXAMPLE.com\": 1 match")
	assert.Contains(t, out, "billing sees:  Ada Lovelace | ada.lovelace@example.com")
	assert.Contains(t, out, "support sees:  A. L. | a***@example.com")
	assert.NotContains(t, strings.SplitN(out, "support sees:", 2)[1], "QQ123456C", "support never sees the national ID in full")
	assert.Contains(t, out, "cus_1001  sealed under key ID")
	assert.Contains(t, out, "sealed and stored cus_1004 (Katherine Johnson, Hampton) under the new version", "every customer printed is introduced")
	assert.Contains(t, out, "opens: Katherine Johnson")
	assert.Contains(t, out, "rotated pii-fields: version 2")
	assert.Contains(t, errOut, "warning: PIIGUARD_PASSPHRASE is not set", "warnings go to stderr")
	assert.NotContains(t, out, "PIIGUARD_PASSPHRASE")

	// The raw rows hold no plaintext.
	rows := out[strings.Index(out, "the rows as the database holds them"):strings.Index(out, "== 3.")]
	for _, c := range customers {
		assert.NotContains(t, rows, c.Name)
		assert.NotContains(t, rows, c.Email)
	}
	// Neither does the database file, nor the audit log, nor the key store.
	for _, f := range []string{customersFile, auditFile, keyStoreFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		for _, c := range append(customers, late) {
			assert.NotContains(t, string(b), c.Email, f)
			assert.NotContains(t, string(b), c.NationalID, f)
		}
	}
	before := snapshot(t, dir)

	second, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	assert.NotContains(t, second, "creating root key file")
	assert.Contains(t, second, "made on an earlier run")
	assert.Contains(t, second, "pii-fields  (aead)      reused, 2 versions")
	assert.Contains(t, second, "customers.db already holds 4 customers, sealed on an earlier run")
	assert.Contains(t, second, "pii-fields was rotated on the first run and has 2 versions; not rotating again")
	assert.NotContains(t, second, "rotated pii-fields")
	assert.Contains(t, second, "opens: Katherine Johnson", "rows of the first run open on the second")
	assert.Equal(t, before.rows, snapshot(t, dir).rows, "the second run changes no customer row")
	assert.Equal(t, before.rootKey, snapshot(t, dir).rootKey)
}

// TestQuickstartFilesArePrivate: the data folder is 0700 and every file in
// it 0600, root.key as much as the databases and the audit log.
func TestQuickstartFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix file modes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		fi, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
	}
}

// TestQuickstartAuditLogIsChained: the log the quickstart writes is a
// chained, checkpointed log that verifies with the keysets of its store,
// across runs; the last section says how much it verified.
func TestQuickstartAuditLogIsChained(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	assert.Contains(t, out, "a new chained log")
	assert.Regexp(t, `audit.jsonl: \d+ records and 1 checkpoint verified, the last at record \d+`, out)
	out, _, err = runQuickstart(t, dir)
	require.NoError(t, err)
	assert.Regexp(t, `audit.jsonl: \d+ records and 1 checkpoint verified; continuing the chain`, out)
	assert.Regexp(t, `audit.jsonl: \d+ records and 2 checkpoints verified`, out)

	// Verified independently, with the store's keysets.
	root, store := openForTest(t, dir)
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	defer kr.Close()
	mac, err := kr.MAC(t.Context(), audit.ChainMACKeyset)
	require.NoError(t, err)
	verifier, err := kr.Verifier(t.Context(), audit.ChainSignKeyset)
	require.NoError(t, err)
	r, err := audit.OpenLog(filepath.Join(dir, auditFile))
	require.NoError(t, err)
	defer r.Close()
	rep, err := audit.Verify(r, mac, verifier, audit.VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Checkpoints)
	assert.Zero(t, rep.Unsealed, "each run ends with a checkpoint")
	var keyEvents int
	r2, err := audit.OpenLog(filepath.Join(dir, auditFile))
	require.NoError(t, err)
	defer r2.Close()
	_, err = audit.Verify(r2, mac, verifier, audit.VerifyOptions{Visit: func(_ uint64, e audit.Event) {
		if e.Action == audit.ActionKeyCreate {
			keyEvents++
		}
	}})
	require.NoError(t, err)
	assert.Equal(t, 4, keyEvents, "the creation of the four keysets, the chain's own included, is in the chain")
}

// TestQuickstartRefusesAPlainAuditLog: an audit.jsonl of plain events is
// not continued as if it were a chain.
func TestQuickstartRefusesAPlainAuditLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	plain, err := audit.NewFileSink(filepath.Join(dir, auditFile), audit.FileOptions{})
	require.NoError(t, err)
	require.NoError(t, plain.Record(t.Context(), audit.Event{Time: t0(), Action: audit.ActionReveal, Actor: "x"}))
	require.NoError(t, plain.Close())
	_, _, err = runQuickstart(t, dir)
	require.ErrorIs(t, err, audit.ErrNotChained)
	assert.Contains(t, err.Error(), "move it aside")
	_, statErr := os.Stat(filepath.Join(dir, rootKeyFile))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "a failed first run leaves no half set of keys behind")
}

// TestQuickstartRootKeyDeleted reproduces the first data-loss report: the
// quickstart run once, then root.key deleted with keys.db kept. The next run
// must fail naming root.key, keep every customer row, and make no key file.
func TestQuickstartRootKeyDeleted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	require.Len(t, before.rows, 4)
	require.NoError(t, os.Remove(filepath.Join(dir, rootKeyFile)))

	for range 2 { // and again: a failed run must not change the next one
		out, _, err := runQuickstart(t, dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(dir, rootKeyFile)+" is missing")
		assert.Contains(t, err.Error(), "restore root.key from your backup")
		assert.Contains(t, err.Error(), "Nothing was changed")
		assert.NotContains(t, out, "creating root key file")
		_, statErr := os.Stat(filepath.Join(dir, rootKeyFile))
		assert.ErrorIs(t, statErr, os.ErrNotExist, "no new root key file")
		after := snapshot(t, dir)
		assert.Equal(t, before.rows, after.rows, "every customer row still there and unchanged")
		assert.Equal(t, before.keyStore, after.keyStore, "the key store untouched")
		assert.Equal(t, before.auditLog, after.auditLog, "the audit log untouched")
	}
}

// TestQuickstartKeyStoreTruncated reproduces the second report: keys.db
// truncated to 0 bytes. The next run must fail naming keys.db and how to
// restore it, create no keyset, and keep the rows.
func TestQuickstartKeyStoreTruncated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	require.NoError(t, os.Truncate(filepath.Join(dir, keyStoreFile), 0))

	_, _, err = runQuickstart(t, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, keyStoreFile)+" is empty")
	assert.Contains(t, err.Error(), "piiguard keys restore")
	after := snapshot(t, dir)
	assert.Equal(t, before.rows, after.rows)
	assert.Equal(t, before.rootKey, after.rootKey, "no new key file")
	assert.Empty(t, after.keyStore, "no keyset created in the emptied store")

	// Deleted rather than truncated: the same refusal.
	require.NoError(t, os.Remove(filepath.Join(dir, keyStoreFile)))
	_, _, err = runQuickstart(t, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, keyStoreFile)+" is missing")
	_, statErr := os.Stat(filepath.Join(dir, keyStoreFile))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "no new key store")
	assert.Equal(t, before.rows, snapshot(t, dir).rows)
}

// TestQuickstartBothKeyFilesGoneButSealedData: sealed customers without
// any key file are not sealed over with new keys.
func TestQuickstartBothKeyFilesGoneButSealedData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, rootKeyFile)))
	require.NoError(t, os.Remove(filepath.Join(dir, keyStoreFile)))
	_, _, err = runQuickstart(t, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds 4 sealed customers")
	assert.Contains(t, err.Error(), "are missing")
	for _, f := range []string{rootKeyFile, keyStoreFile} {
		_, statErr := os.Stat(filepath.Join(dir, f))
		assert.ErrorIs(t, statErr, os.ErrNotExist, f)
	}
	assert.Equal(t, before.rows, snapshot(t, dir).rows)
}

// TestQuickstartKeysetLostFromTheStore: a keyset gone from keys.db (the
// store's manifest still lists it) is refused by kms, naming the store.
func TestQuickstartKeysetLostFromTheStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	db, err := sql.Open("sqlite", filepath.Join(dir, keyStoreFile))
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM piiguard_keysets WHERE name = 'pii-fields'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, _, err = runQuickstart(t, dir)
	require.ErrorIs(t, err, kms.ErrKeysMissing)
	assert.Contains(t, err.Error(), keyStoreFile)
	assert.Contains(t, err.Error(), `"pii-fields"`)
	assert.Contains(t, err.Error(), "restore")
	after := snapshot(t, dir)
	assert.Equal(t, before.rows, after.rows)
	assert.NotContains(t, after.keyStore, "pii-fields", "no new pii-fields keyset")
}

// TestQuickstartRootKeyReplaced: a new key file in the old one's place is
// not the store's root key.
func TestQuickstartRootKeyReplaced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runQuickstart(t, dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	path := filepath.Join(dir, rootKeyFile)
	require.NoError(t, os.Remove(path))
	d, err := localkey.Create(path, []byte(demoPassphrase), localkey.Options{InsecureFastKDFForTests: true})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	_, _, err = runQuickstart(t, dir)
	require.ErrorIs(t, err, kms.ErrWrongRootKey)
	assert.Contains(t, err.Error(), keyStoreFile)
	assert.Contains(t, err.Error(), "restored from its backup")
	assert.Equal(t, before.rows, snapshot(t, dir).rows)
}

// TestQuickstartBinaryFailsWithCLIStyleError: the program exits 1 and
// prints "quickstart: …" (no log timestamp) when keys are missing.
func TestQuickstartBinaryFailsWithCLIStyleError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, exec.Command(bin, "-data", dir).Run())
	require.NoError(t, os.Remove(filepath.Join(dir, rootKeyFile)))
	cmd := exec.Command(bin, "-data", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	assert.True(t, strings.HasPrefix(last, "quickstart: root key file "), "got %q", last)
}

// state is what a test compares before and after a run.
type state struct {
	rows     []Customer
	rootKey  []byte
	keyStore []string // keyset names and key IDs
	auditLog []byte
}

func snapshot(t *testing.T, dir string) state {
	t.Helper()
	var s state
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, customersFile)+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	s.rows, err = load(t.Context(), db, "")
	require.NoError(t, err)
	s.rootKey, _ = os.ReadFile(filepath.Join(dir, rootKeyFile))
	s.auditLog, _ = os.ReadFile(filepath.Join(dir, auditFile))
	if fi, err := os.Stat(filepath.Join(dir, keyStoreFile)); err == nil && fi.Size() > 0 {
		kdb, err := sql.Open("sqlite", "file:"+filepath.Join(dir, keyStoreFile)+"?mode=ro")
		require.NoError(t, err)
		defer kdb.Close()
		rows, err := kdb.Query(`SELECT name, versions FROM piiguard_keysets ORDER BY name`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var name, versions string
			require.NoError(t, rows.Scan(&name, &versions))
			s.keyStore = append(s.keyStore, name+" "+versions)
		}
		require.NoError(t, rows.Err())
	}
	return s
}

func openForTest(t *testing.T, dir string) (*kms.RootKey, *sqlstore.Store) {
	t.Helper()
	d, err := localkey.Open(filepath.Join(dir, rootKeyFile), []byte(demoPassphrase), localkey.Options{})
	require.NoError(t, err)
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "local:" + filepath.Join(dir, rootKeyFile)})
	t.Cleanup(func() { root.Close() })
	store, err := sqlstore.OpenSQLite(filepath.Join(dir, keyStoreFile))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return root, store
}

func t0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
