package e2e_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/multi"
)

// TestMigrationLocalToMultiBackend moves every keyset from a local key
// file to a root key held by two backends (two other key files, standing
// in for two sites) with one Rewrap, proves it with Verify, and opens the
// old data in a new process that has only the new root key — the old key
// file deleted.
func TestMigrationLocalToMultiBackend(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	oldDriver, oldPath := localRoot(t, dir, "old")
	oldRoot := kms.NewRootKey(oldDriver, fastRetries("local:///old.key"))
	defer oldRoot.Close()
	storeDir := filepath.Join(dir, "store")
	store, err := filestore.Open(storeDir)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(oldRoot, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)
	allNamed(t, ctx, store, "local:///old.key")

	openNewRoot := func() *kms.RootKey {
		var backends []multi.Backend
		for _, site := range []string{"site1", "site2"} {
			path := filepath.Join(dir, site+".key")
			d, err := localkey.Open(path, []byte(testPassphrase), localkey.Options{})
			if err != nil {
				d, err = localkey.Create(path, []byte(testPassphrase), localkey.Options{InsecureFastKDFForTests: true})
			}
			require.NoError(t, err)
			backends = append(backends, multi.Backend{Name: site, Driver: d})
		}
		d, err := multi.New(backends, multi.Options{})
		require.NoError(t, err)
		return kms.NewRootKey(d, fastRetries("multi:site1+site2"))
	}
	newRoot := openNewRoot()
	defer newRoot.Close()

	n, err := kms.NewAdmin(kr).Rewrap(ctx, newRoot)
	require.NoError(t, err)
	assert.Equal(t, c.keysets, n, "one call moves every keyset")
	allNamed(t, ctx, store, "multi:site1+site2")
	c.checkVerify(t, ctx, kr)
	c.check(t, ctx, kr)
	_, err = kms.NewAdmin(kr).Rewrap(ctx, newRoot)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "the keyring already uses the new root")

	// A new process: the old root key is gone for good.
	require.NoError(t, oldRoot.Close())
	require.NoError(t, os.Remove(oldPath))
	restarted := openNewRoot()
	defer restarted.Close()
	store2, err := filestore.Open(storeDir)
	require.NoError(t, err)
	kr2, err := kms.NewKeyring(restarted, store2, kms.KeyringOptions{})
	require.NoError(t, err)
	c.checkVerify(t, ctx, kr2)
	c.check(t, ctx, kr2)
}

// TestMigrationChainLocalToLocalToMulti migrates twice, as a deployment
// does over the years; data from before the first move still opens after
// the second.
func TestMigrationChainLocalToLocalToMulti(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	d1, _ := localRoot(t, dir, "first")
	d2, _ := localRoot(t, dir, "second")
	r1 := kms.NewRootKey(d1, fastRetries("first"))
	r2 := kms.NewRootKey(d2, fastRetries("second"))
	md, err := multi.New([]multi.Backend{{Name: "a", Driver: insecuremem.NewDriver()}, {Name: "b", Driver: insecuremem.NewDriver()}}, multi.Options{})
	require.NoError(t, err)
	r3 := kms.NewRootKey(md, fastRetries("third"))
	for _, r := range []*kms.RootKey{r1, r2, r3} {
		defer r.Close()
	}
	store := insecuremem.NewStore()
	kr, err := kms.NewKeyring(r1, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)
	for _, to := range []*kms.RootKey{r2, r3} {
		n, err := kms.NewAdmin(kr).Rewrap(ctx, to)
		require.NoError(t, err)
		assert.Equal(t, c.keysets, n)
		allNamed(t, ctx, store, to.Name())
		c.checkVerify(t, ctx, kr)
		c.check(t, ctx, kr)
	}
}
