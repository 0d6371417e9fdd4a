package e2e_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/multi"
)

// outageFixture is a keyring over a root key whose backend can be taken
// down (a CountingDriver over a local key file).
type outageFixture struct {
	backend *kmstest.CountingDriver
	root    *kms.RootKey
	store   *flakyStore
	clock   *clock
	kr      *kms.Keyring
}

func newOutageFixture(t *testing.T) *outageFixture {
	t.Helper()
	d, _ := localRoot(t, t.TempDir(), "root")
	f := &outageFixture{backend: kmstest.NewCountingDriver(d), clock: newClock()}
	f.root = kms.NewRootKey(f.backend, fastRetries("local-root"))
	t.Cleanup(func() { _ = f.root.Close() })
	fs, err := filestore.Open(t.TempDir())
	require.NoError(t, err)
	f.store = &flakyStore{Store: fs}
	f.kr, err = kms.NewKeyring(f.root, f.store, kms.KeyringOptions{Clock: f.clock.Now})
	require.NoError(t, err)
	return f
}

// TestOutageCachedKeysCarryOn takes the root key's backend down after the
// keysets were loaded: encrypting, decrypting, blind indexes and tokens
// keep working without a single backend call, also past the cache's
// maximum age (within StaleIfUnavailable); a keyset not cached fails after
// a bounded number of attempts with ErrUnavailable; when the backend is
// back, everything loads again.
func TestOutageCachedKeysCarryOn(t *testing.T) {
	ctx := t.Context()
	f := newOutageFixture(t)
	c := makeCorpus(t, ctx, f.kr)
	_, err := kms.NewAdmin(f.kr).Create(ctx, "cold", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.kr.AEAD(ctx, "fields") // warm
	require.NoError(t, err)

	f.backend.SetUnavailable(true)
	f.backend.Reset()
	for range 100 {
		c.check(t, ctx, f.kr)
	}
	assert.Zero(t, f.backend.Unwraps()+f.backend.Wraps(), "cached keysets make no backend call")

	// A cache miss: bounded attempts (RootKeyOptions.MaxAttempts, 3), then
	// a clear error naming the keyset.
	start := time.Now()
	_, err = f.kr.AEAD(ctx, "cold")
	require.Error(t, err)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Equal(t, piiguard.CodeUnavailable, piiguard.ErrorCode(err))
	var ke *kms.KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "cold", ke.Keyset)
	assert.Equal(t, int64(3), f.backend.Unwraps(), "three attempts, no more")
	assert.Less(t, time.Since(start), 5*time.Second)

	// Past the cache's maximum age the old entries keep serving while the
	// backend is down (StaleIfUnavailable, one hour by default)…
	f.clock.Advance(30 * time.Minute)
	c.check(t, ctx, f.kr)
	// …but not for ever.
	f.clock.Advance(2 * time.Hour)
	_, err = f.kr.AEAD(ctx, "fields")
	assert.ErrorIs(t, err, kms.ErrUnavailable)

	// The backend comes back.
	f.backend.SetUnavailable(false)
	c.check(t, ctx, f.kr)
	a, err := f.kr.AEAD(ctx, "cold")
	require.NoError(t, err)
	_, err = a.Encrypt([]byte("x"), nil)
	require.NoError(t, err)
}

// TestOutageKeyChangesFailCleanly: while the backend is down, creating,
// rotating and rewrapping keysets fail with ErrUnavailable and the store is
// left exactly as it was — no half-written keyset, no version that was
// never wrapped — and encryption goes on under the old primary.
func TestOutageKeyChangesFailCleanly(t *testing.T) {
	ctx := t.Context()
	f := newOutageFixture(t)
	c := makeCorpus(t, ctx, f.kr)
	before, err := f.store.ListKeysets(ctx)
	require.NoError(t, err)
	vs, err := kms.NewAdmin(f.kr).Versions(ctx, "fields")
	require.NoError(t, err)
	var primary uint32
	for _, v := range vs {
		if v.Primary {
			primary = v.ID
		}
	}
	_, err = f.kr.AEAD(ctx, "fields") // cached before the outage
	require.NoError(t, err)

	f.backend.SetUnavailable(true)
	_, err = kms.NewAdmin(f.kr).Create(ctx, "new", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrUnavailable, "create")
	_, err = f.store.GetKeyset(ctx, "new")
	assert.ErrorIs(t, err, kms.ErrNotFound, "nothing of the new keyset was stored")
	_, err = f.kr.AEAD(ctx, "new")
	assert.ErrorIs(t, err, kms.ErrNotFound, "and nothing can encrypt under it")

	_, err = kms.NewAdmin(f.kr).Rotate(ctx, "fields")
	assert.ErrorIs(t, err, kms.ErrUnavailable, "rotate")

	// Moving to another root key needs the old one to unwrap: it fails,
	// and no record names the new root.
	other := kms.NewRootKey(insecuremem.NewDriver(), fastRetries("other-root"))
	defer other.Close()
	_, err = kms.NewAdmin(f.kr).Rewrap(ctx, other)
	assert.ErrorIs(t, err, kms.ErrUnavailable, "rewrap from a root that is down")

	after, err := f.store.ListKeysets(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the store is exactly as before the outage")

	// Encryption goes on, under the primary the store holds: the failed
	// rotation left no version behind that a restarted process lacks.
	a, err := f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	ct, err := a.Encrypt([]byte("during the outage"), []byte(aeadAD))
	require.NoError(t, err)
	assert.Equal(t, primary, keyID(t, ct))

	// The backend comes back: what was written during the outage opens in
	// a new process, and key changes work again.
	f.backend.SetUnavailable(false)
	kr2, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	a2, err := kr2.AEAD(ctx, "fields")
	require.NoError(t, err)
	pt, err := a2.Decrypt(ct, []byte(aeadAD))
	require.NoError(t, err)
	assert.Equal(t, "during the outage", string(pt))
	_, err = kms.NewAdmin(f.kr).Create(ctx, "new", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = kms.NewAdmin(f.kr).Rotate(ctx, "fields")
	require.NoError(t, err)
	c.check(t, ctx, f.kr)
}

// TestOutageOfTheNewRootDuringRewrap: a migration whose target backend is
// down fails without touching the store; run again later, it completes.
func TestOutageOfTheNewRootDuringRewrap(t *testing.T) {
	ctx := t.Context()
	f := newOutageFixture(t)
	c := makeCorpus(t, ctx, f.kr)
	before, err := f.store.ListKeysets(ctx)
	require.NoError(t, err)

	target := kmstest.NewCountingDriver(insecuremem.NewDriver())
	newRoot := kms.NewRootKey(target, fastRetries("new-root"))
	defer newRoot.Close()
	target.SetUnavailable(true)
	n, err := kms.NewAdmin(f.kr).Rewrap(ctx, newRoot)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Zero(t, n)
	after, err := f.store.ListKeysets(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	c.check(t, ctx, f.kr)

	target.SetUnavailable(false)
	n, err = kms.NewAdmin(f.kr).Rewrap(ctx, newRoot)
	require.NoError(t, err)
	assert.Equal(t, c.keysets, n)
	allNamed(t, ctx, f.store, "new-root")
	c.checkVerify(t, ctx, f.kr)
}

// TestNothingIsEncryptedUnderAKeyTheStoreDidNotKeep takes the key store
// down instead: a keyset or a version the store did not durably keep is
// never used to encrypt, so nothing is ever written that a restarted
// process could not decrypt.
func TestNothingIsEncryptedUnderAKeyTheStoreDidNotKeep(t *testing.T) {
	ctx := t.Context()
	f := newOutageFixture(t)
	c := makeCorpus(t, ctx, f.kr)

	f.store.failPuts.Store(true)
	_, err := kms.NewAdmin(f.kr).Create(ctx, "new", kms.PurposeAEAD)
	require.ErrorIs(t, err, kms.ErrUnavailable)
	_, err = f.kr.AEAD(ctx, "new")
	assert.ErrorIs(t, err, kms.ErrNotFound, "a keyset the store did not keep cannot encrypt")

	_, err = kms.NewAdmin(f.kr).Rotate(ctx, "fields")
	require.ErrorIs(t, err, kms.ErrUnavailable)
	a, err := f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	var written [][]byte
	for range 10 {
		ct, err := a.Encrypt([]byte("written while the store is down"), []byte(aeadAD))
		require.NoError(t, err)
		written = append(written, ct)
	}

	_, err = f.kr.SubjectKey(ctx, "customer-new")
	require.ErrorIs(t, err, kms.ErrUnavailable, "a subject key the store did not keep is not handed out")

	// A new process over the same store (nothing cached) decrypts all of it.
	f.store.failPuts.Store(false)
	kr2, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	a2, err := kr2.AEAD(ctx, "fields")
	require.NoError(t, err)
	for _, ct := range written {
		_, err := a2.Decrypt(ct, []byte(aeadAD))
		require.NoError(t, err)
	}
	c.check(t, ctx, kr2)
	sk, err := f.kr.SubjectKey(ctx, "customer-new")
	require.NoError(t, err)
	ct, err := sk.Encrypt([]byte("x"), nil)
	require.NoError(t, err)
	sk2, err := kr2.SubjectKey(ctx, "customer-new")
	require.NoError(t, err)
	_, err = sk2.Decrypt(ct, nil)
	require.NoError(t, err, "the subject key handed out is the one stored")
}

// TestOutageOfOneBackendOfAMultiRootKey: with the root key held by two
// backends, losing either one stops nothing but key creation (the default
// quorum wants both); losing both is an outage.
func TestOutageOfOneBackendOfAMultiRootKey(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	l1, _ := localRoot(t, dir, "site1")
	l2, _ := localRoot(t, dir, "site2")
	site1, site2 := kmstest.NewCountingDriver(l1), kmstest.NewCountingDriver(l2)
	d, err := multi.New([]multi.Backend{{Name: "site1", Driver: site1}, {Name: "site2", Driver: site2}}, multi.Options{})
	require.NoError(t, err)
	root := kms.NewRootKey(d, fastRetries("multi:site1+site2"))
	defer root.Close()
	store := insecuremem.NewStore()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)

	for _, down := range []*kmstest.CountingDriver{site1, site2} {
		down.SetUnavailable(true)
		fresh, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
		require.NoError(t, err)
		c.check(t, ctx, fresh) // every keyset loads from the other site
		_, err = kms.NewAdmin(fresh).Rotate(ctx, "fields")
		require.NoError(t, err, "rotation rewraps nothing: one site is enough")
		_, err = kms.NewAdmin(fresh).Create(ctx, "needs-both", kms.PurposeAEAD)
		assert.ErrorIs(t, err, kms.ErrUnavailable, "creation wraps under both sites")
		_, err = store.GetKeyset(ctx, "needs-both")
		assert.ErrorIs(t, err, kms.ErrNotFound)
		down.SetUnavailable(false)
	}

	site1.SetUnavailable(true)
	site2.SetUnavailable(true)
	fresh, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = fresh.AEAD(ctx, "fields")
	require.ErrorIs(t, err, kms.ErrUnavailable)
	var me *multi.Error
	assert.True(t, errors.As(err, &me), "the error lists each site: %v", err)
}
