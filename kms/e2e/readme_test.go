package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// readmeKeys is the README's "Keys in five lines", which
// TestREADMEKeysInFiveLines runs.
const readmeKeys = `root, _ := localkey.OpenRootKey(ctx, "local:///var/lib/app/root.key?passphrase_env=APP_ROOT_PASSPHRASE")
store, _ := sqlstore.OpenSQLite("/var/lib/app/keys.db")
kr, _ := kms.NewKeyring(root, store, kms.KeyringOptions{Audit: sink})
_ = kms.NewAdmin(kr).Ensure(ctx, "pii-fields", kms.PurposeAEAD)
aead, _ := kr.AEAD(ctx, "pii-fields") // cached: no KMS call in steady state
`

// TestREADMEKeysInFiveLines: the README's five lines are these, and they
// work (over a key file made beforehand, in a temporary folder instead of
// /var/lib/app).
func TestREADMEKeysInFiveLines(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "```go\n"+readmeKeys+"```", "README.md's Keys in five lines")

	dir := filepath.ToSlash(t.TempDir())
	if !strings.HasPrefix(dir, "/") {
		dir = "/" + dir // Windows: local:///C:/...
	}
	d, err := localkey.Create(filepath.FromSlash(dir+"/root.key"), []byte(testPassphrase), localkey.Options{InsecureFastKDFForTests: true})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	t.Setenv("APP_ROOT_PASSPHRASE", testPassphrase)
	ctx := context.Background()
	sink := audit.Discard

	root, err := localkey.OpenRootKey(ctx, "local://"+dir+"/root.key?passphrase_env=APP_ROOT_PASSPHRASE")
	require.NoError(t, err)
	defer root.Close()
	store, err := sqlstore.OpenSQLite(filepath.FromSlash(dir + "/keys.db"))
	require.NoError(t, err)
	defer store.Close()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{Audit: sink})
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "pii-fields", kms.PurposeAEAD))
	aead, err := kr.AEAD(ctx, "pii-fields")
	require.NoError(t, err)

	ct, err := aead.Encrypt([]byte("ada@example.com"), nil)
	require.NoError(t, err)
	pt, err := aead.Decrypt(ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", string(pt))
}
