package kms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// countingDriver counts the calls that reach the backend and can be made to
// fail as if the backend were down.
type countingDriver struct {
	kms.Driver
	wraps, unwraps atomic.Int64
	down           atomic.Bool
}

func (c *countingDriver) Wrap(ctx context.Context, p, ad []byte) ([]byte, error) {
	c.wraps.Add(1)
	if c.down.Load() {
		return nil, fmt.Errorf("test backend down: %w", kms.ErrUnavailable)
	}
	return c.Driver.Wrap(ctx, p, ad)
}

func (c *countingDriver) Unwrap(ctx context.Context, ct, ad []byte) ([]byte, error) {
	c.unwraps.Add(1)
	if c.down.Load() {
		return nil, fmt.Errorf("test backend down: %w", kms.ErrUnavailable)
	}
	return c.Driver.Unwrap(ctx, ct, ad)
}

// eventLog is an audit sink that keeps events.
type eventLog struct {
	mu     sync.Mutex
	events []audit.Event
	fail   error
}

func (l *eventLog) Record(_ context.Context, e audit.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.events = append(l.events, e)
	return nil
}

func (l *eventLog) actions() []audit.Action {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Action
	for _, e := range l.events {
		out = append(out, e.Action)
	}
	return out
}

type fixture struct {
	drv   *countingDriver
	root  *kms.RootKey
	store *insecuremem.Store
	kr    *kms.Keyring
	admin *kms.Admin
	log   *eventLog
}

func newFixture(t testing.TB, opts kms.KeyringOptions) *fixture {
	t.Helper()
	f := &fixture{
		drv:   &countingDriver{Driver: insecuremem.NewDriver()},
		store: insecuremem.NewStore(),
		log:   &eventLog{},
	}
	f.root = kms.NewRootKey(f.drv, kms.RootKeyOptions{Name: "test-root", BaseDelay: time.Millisecond})
	t.Cleanup(func() { f.root.Close() })
	if opts.Audit == nil {
		opts.Audit = f.log
	}
	var err error
	f.kr, err = kms.NewKeyring(f.root, f.store, opts)
	require.NoError(t, err)
	f.admin = kms.NewAdmin(f.kr)
	return f
}

var ctx = context.Background()

func TestCreateAndUseEveryPurpose(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	for _, p := range []kms.Purpose{kms.PurposeAEAD, kms.PurposePRF, kms.PurposeDeterministicAEAD, kms.PurposeMAC, kms.PurposeSignature} {
		v, err := f.admin.Create(ctx, "ks-"+string(p), p)
		require.NoError(t, err, p)
		assert.True(t, v.Primary)
		assert.Equal(t, 1, v.Number)
		assert.Equal(t, kms.StatusEnabled, v.Status)
	}
	a, err := f.kr.AEAD(ctx, "ks-aead")
	require.NoError(t, err)
	ct, err := a.Encrypt([]byte("hello"), []byte("ad"))
	require.NoError(t, err)
	pt, err := a.Decrypt(ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(pt))

	d, err := f.kr.DeterministicAEAD(ctx, "ks-daead")
	require.NoError(t, err)
	c1, _ := d.EncryptDeterministically([]byte("x"), nil)
	c2, _ := d.EncryptDeterministically([]byte("x"), nil)
	assert.Equal(t, c1, c2)

	ps, err := f.kr.PRF(ctx, "ks-prf")
	require.NoError(t, err)
	out, err := ps.ComputePrimaryPRF([]byte("x"), 16)
	require.NoError(t, err)
	assert.Len(t, out, 16)

	m, err := f.kr.MAC(ctx, "ks-mac")
	require.NoError(t, err)
	tag, err := m.ComputeMAC([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, m.VerifyMAC(tag, []byte("x")))

	s, err := f.kr.Signer(ctx, "ks-signature")
	require.NoError(t, err)
	sig, err := s.Sign([]byte("x"))
	require.NoError(t, err)
	vr, err := f.kr.Verifier(ctx, "ks-signature")
	require.NoError(t, err)
	require.NoError(t, vr.Verify(sig, []byte("x")))

	_, err = f.kr.AEAD(ctx, "ks-prf")
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "a PRF keyset is not an AEAD")
	_, err = f.kr.AEAD(ctx, "missing")
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestCreateRejectsBadInput(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "a/b", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	_, err = f.admin.Create(ctx, "", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	_, err = f.admin.Create(ctx, "x", kms.Purpose("rot13"))
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	_, err = f.admin.Create(ctx, "x", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.admin.Create(ctx, "x", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrAlreadyExists)
	var ke *kms.KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "x", ke.Keyset)

	require.NoError(t, f.admin.Ensure(ctx, "x", kms.PurposeAEAD))
	assert.ErrorIs(t, f.admin.Ensure(ctx, "x", kms.PurposePRF), kms.ErrInvalidArgument)
	require.NoError(t, f.admin.Ensure(ctx, "y", kms.PurposePRF))
}

func TestRotateKeepsOldVersionsDecrypting(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	v1, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	a1, err := f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	old, err := a1.Encrypt([]byte("old"), nil)
	require.NoError(t, err)

	v2, err := f.admin.Rotate(ctx, "fields")
	require.NoError(t, err)
	assert.NotEqual(t, v1.ID, v2.ID)
	assert.Equal(t, 2, v2.Number)
	assert.True(t, v2.Primary)

	a2, err := f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	fresh, err := a2.Encrypt([]byte("new"), nil)
	require.NoError(t, err)
	assert.Equal(t, v2.ID, keyIDOf(fresh), "the new primary encrypts")
	pt, err := a2.Decrypt(old, nil)
	require.NoError(t, err)
	assert.Equal(t, "old", string(pt))

	vs, err := f.admin.Versions(ctx, "fields")
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.False(t, vs[0].Primary)
	assert.True(t, vs[1].Primary)
	assert.Nil(t, vs[0].Canary, "Versions does not hand out canaries")
}

func keyIDOf(ct []byte) uint32 {
	return uint32(ct[1])<<24 | uint32(ct[2])<<16 | uint32(ct[3])<<8 | uint32(ct[4])
}

func TestDisableEnableDestroy(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	v1, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	a, _ := f.kr.AEAD(ctx, "fields")
	ct, err := a.Encrypt([]byte("secret"), nil)
	require.NoError(t, err)

	assert.ErrorIs(t, f.admin.Disable(ctx, "fields", v1.ID), kms.ErrInvalidArgument, "the primary cannot be disabled")
	assert.ErrorIs(t, f.admin.Destroy(ctx, "fields", v1.ID), kms.ErrInvalidArgument, "the primary cannot be destroyed")
	_, err = f.admin.Rotate(ctx, "fields")
	require.NoError(t, err)

	require.NoError(t, f.admin.Disable(ctx, "fields", v1.ID))
	a, _ = f.kr.AEAD(ctx, "fields")
	_, err = a.Decrypt(ct, nil)
	assert.ErrorIs(t, err, kms.ErrDisabled)
	var ke *kms.KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, v1.ID, ke.KeyID)
	assert.ErrorIs(t, f.admin.Promote(ctx, "fields", v1.ID), kms.ErrDisabled)

	require.NoError(t, f.admin.Enable(ctx, "fields", v1.ID))
	a, _ = f.kr.AEAD(ctx, "fields")
	_, err = a.Decrypt(ct, nil)
	require.NoError(t, err)

	require.NoError(t, f.admin.Destroy(ctx, "fields", v1.ID))
	a, _ = f.kr.AEAD(ctx, "fields")
	_, err = a.Decrypt(ct, nil)
	assert.ErrorIs(t, err, kms.ErrDestroyed)
	assert.ErrorIs(t, f.admin.Enable(ctx, "fields", v1.ID), kms.ErrDestroyed, "destroyed is final")
	assert.ErrorIs(t, f.admin.Disable(ctx, "fields", 12345), kms.ErrNotFound)

	// The key material is gone from the stored keyset: even a keyring that
	// ignored the metadata could not decrypt. Verify proves the keyset
	// holds exactly the remaining version.
	rep, err := f.admin.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Checked)
	assert.Equal(t, 1, rep.Skipped)
}

func TestAddVersionThenPromote(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	v1, _ := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	v2, err := f.admin.AddVersion(ctx, "fields")
	require.NoError(t, err)
	assert.False(t, v2.Primary)
	a, _ := f.kr.AEAD(ctx, "fields")
	ct, _ := a.Encrypt(nil, nil)
	assert.Equal(t, v1.ID, keyIDOf(ct), "a new version does not encrypt before it is promoted")
	require.NoError(t, f.admin.Promote(ctx, "fields", v2.ID))
	a, _ = f.kr.AEAD(ctx, "fields")
	ct, _ = a.Encrypt(nil, nil)
	assert.Equal(t, v2.ID, keyIDOf(ct))
}

func TestConcurrentRotationsLoseNoVersion(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	// Several keyrings (as several processes would) over one store.
	const writers, each = 4, 5
	var wg sync.WaitGroup
	ids := make(chan uint32, writers*each)
	for w := 0; w < writers; w++ {
		kr, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				v, err := kms.NewAdmin(kr).Rotate(ctx, "fields")
				if !assert.NoError(t, err) {
					return
				}
				ids <- v.ID
			}
		}()
	}
	wg.Wait()
	close(ids)
	vs, err := f.admin.Versions(ctx, "fields")
	require.NoError(t, err)
	require.Len(t, vs, 1+writers*each, "every rotation left its version")
	stored := map[uint32]bool{}
	for i, v := range vs {
		assert.Equal(t, i+1, v.Number)
		stored[v.ID] = true
	}
	for id := range ids {
		assert.True(t, stored[id], "version %d was lost", id)
	}
	_, err = f.admin.Verify(ctx)
	require.NoError(t, err)
}

func TestCacheMakesOneBackendCallPerKeyset(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	for _, n := range []string{"a", "b"} {
		_, err := f.admin.Create(ctx, n, kms.PurposeAEAD)
		require.NoError(t, err)
	}
	f.drv.unwraps.Store(0)
	for i := 0; i < 100_000; i++ {
		a, err := f.kr.AEAD(ctx, []string{"a", "b"}[i%2])
		require.NoError(t, err)
		_, err = a.Encrypt([]byte("x"), nil)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, f.drv.unwraps.Load(), int64(2), "at most one unwrap per keyset for 100,000 encryptions")
}

func TestCacheMissIsSingleFlight(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "a", kms.PurposeAEAD)
	require.NoError(t, err)
	f.drv.unwraps.Store(0)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.kr.AEAD(ctx, "a")
			assert.NoError(t, err)
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int64(1), f.drv.unwraps.Load())
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheExpiresAndServesStaleDuringOutage(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, kms.KeyringOptions{Clock: clk.Now, CacheMaxAge: time.Minute, StaleIfUnavailable: 10 * time.Minute})
	_, err := f.admin.Create(ctx, "a", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.kr.AEAD(ctx, "a")
	require.NoError(t, err)
	f.drv.unwraps.Store(0)

	clk.Add(2 * time.Minute)
	_, err = f.kr.AEAD(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, int64(1), f.drv.unwraps.Load(), "an expired entry is reloaded")

	f.drv.down.Store(true)
	clk.Add(2 * time.Minute)
	a, err := f.kr.AEAD(ctx, "a")
	require.NoError(t, err, "while the backend is down, the expired entry keeps serving")
	_, err = a.Encrypt([]byte("x"), nil)
	require.NoError(t, err)

	clk.Add(time.Hour)
	_, err = f.kr.AEAD(ctx, "a")
	assert.ErrorIs(t, err, kms.ErrUnavailable, "past the grace period the outage shows")
	assert.Greater(t, f.drv.unwraps.Load(), int64(3), "the root key retried")
}

func TestSubjectKeys(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	a, err := f.kr.SubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	ct, err := a.Encrypt([]byte("alice@example.com"), []byte("email"))
	require.NoError(t, err)

	// Another keyring over the same store finds the same key.
	kr2, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	a2, err := kr2.SubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	pt, err := a2.Decrypt(ct, []byte("email"))
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", string(pt))

	b, err := f.kr.SubjectKey(ctx, "customer-2")
	require.NoError(t, err)
	_, err = b.Decrypt(ct, []byte("email"))
	assert.Error(t, err, "another subject's key does not open it")

	// A subject key record copied to another subject does not open.
	rec, err := f.store.GetSubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	rec.SubjectID = "customer-3"
	require.NoError(t, f.store.PutSubjectKey(ctx, rec))
	_, err = kr2.SubjectKey(ctx, "customer-3")
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)

	require.NoError(t, f.admin.DestroySubjectKey(ctx, "customer-1"))
	require.NoError(t, f.admin.DestroySubjectKey(ctx, "customer-1"), "destroying twice is a no-op")
	_, err = f.kr.SubjectKey(ctx, "customer-1")
	assert.ErrorIs(t, err, kms.ErrDestroyed, "a destroyed key is not recreated")
	_, err = kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	assert.ErrorIs(t, f.admin.DestroySubjectKey(ctx, "nobody"), kms.ErrNotFound)
	_, err = f.kr.SubjectKey(ctx, "")
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	_, err = f.kr.SubjectKey(ctx, "bad\x00id")
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)

	assert.Contains(t, f.log.actions(), audit.ActionSubjectKeyCreate)
	assert.Contains(t, f.log.actions(), audit.ActionSubjectKeyDestroy)
}

func TestSubjectKeysAreCached(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.kr.SubjectKey(ctx, "c1")
	require.NoError(t, err)
	f.drv.unwraps.Store(0)
	for i := 0; i < 1000; i++ {
		_, err := f.kr.SubjectKey(ctx, "c1")
		require.NoError(t, err)
	}
	assert.Zero(t, f.drv.unwraps.Load())
}

func TestBackupRestoreVerify(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	_, err = f.admin.Rotate(ctx, "fields")
	require.NoError(t, err)
	a, _ := f.kr.AEAD(ctx, "fields")
	ct, _ := a.Encrypt([]byte("data"), nil)

	var buf bytes.Buffer
	_, err = f.admin.Backup(ctx, &buf)
	require.NoError(t, err)
	backup := buf.Bytes()

	rep, err := f.admin.VerifyBackup(ctx, bytes.NewReader(backup), "mem")
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Keysets)
	assert.Equal(t, 3, rep.Checked)

	store2 := insecuremem.NewStore()
	kr2, err := kms.NewKeyring(f.root, store2, kms.KeyringOptions{})
	require.NoError(t, err)
	n, err := kms.NewAdmin(kr2).Restore(ctx, bytes.NewReader(backup), "mem")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = kms.NewAdmin(kr2).Verify(ctx)
	require.NoError(t, err)
	a2, err := kr2.AEAD(ctx, "fields")
	require.NoError(t, err)
	pt, err := a2.Decrypt(ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "data", string(pt))

	_, err = kms.NewAdmin(kr2).Restore(ctx, bytes.NewReader(backup), "mem")
	assert.ErrorIs(t, err, kms.ErrNotEmpty)

	// Another root key cannot verify the backup.
	other := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "other"})
	kr3, _ := kms.NewKeyring(other, insecuremem.NewStore(), kms.KeyringOptions{})
	rep, err = kms.NewAdmin(kr3).VerifyBackup(ctx, bytes.NewReader(backup), "mem")
	assert.ErrorIs(t, err, kms.ErrVerification)
	assert.Len(t, rep.Failures, 2)
}

func TestRestoreUndoesPartialWrite(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	for _, n := range []string{"a", "b", "c"} {
		_, err := f.admin.Create(ctx, n, kms.PurposeAEAD)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err := f.admin.Backup(ctx, &buf)
	require.NoError(t, err)
	fs := &failingStore{Store: insecuremem.NewStore(), failOn: "c"}
	kr2, _ := kms.NewKeyring(f.root, fs, kms.KeyringOptions{})
	_, err = kms.NewAdmin(kr2).Restore(ctx, &buf, "mem")
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	left, err := fs.ListKeysets(ctx)
	require.NoError(t, err)
	assert.Empty(t, left, "no partial restore is left")
}

type failingStore struct {
	*insecuremem.Store
	failOn string
}

func (s *failingStore) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if rec.Name == s.failOn {
		return fmt.Errorf("store write failed: %w", kms.ErrUnavailable)
	}
	return s.Store.PutKeyset(ctx, rec)
}

func TestVerifyDetectsTamperedKeyset(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	rec, err := f.store.GetKeyset(ctx, "fields")
	require.NoError(t, err)
	rec.EncryptedKeyset[len(rec.EncryptedKeyset)-1] ^= 1
	require.NoError(t, f.store.PutKeyset(ctx, rec))
	rep, err := f.admin.Verify(ctx)
	assert.ErrorIs(t, err, kms.ErrVerification)
	require.Len(t, rep.Failures, 1)
	assert.ErrorIs(t, rep.Failures[0].Err, kms.ErrInvalidCiphertext)

	// A canary that does not match is caught too.
	_, err = f.admin.Create(ctx, "other", kms.PurposePRF)
	require.NoError(t, err)
	rec, _ = f.store.GetKeyset(ctx, "other")
	rec.Versions[0].Canary[0] ^= 1
	require.NoError(t, f.store.PutKeyset(ctx, rec))
	rep, err = f.admin.Verify(ctx)
	assert.ErrorIs(t, err, kms.ErrVerification)
	assert.Len(t, rep.Failures, 2)
}

func TestKeysetRenamedInStoreDoesNotOpen(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	rec, _ := f.store.GetKeyset(ctx, "fields")
	rec.Name, rec.Revision = "copy", 0
	require.NoError(t, f.store.PutKeyset(ctx, rec))
	_, err = f.kr.AEAD(ctx, "copy")
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
}

func TestRewrapMovesToAnotherRootKey(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	a, _ := f.kr.AEAD(ctx, "fields")
	ct, _ := a.Encrypt([]byte("data"), nil)

	newRoot := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "new-root"})
	n, err := f.admin.Rewrap(ctx, newRoot)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = f.admin.Rewrap(ctx, newRoot)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "already on that root")
	assert.Zero(t, n)

	// The old root key is no longer needed: close it.
	require.NoError(t, f.root.Close())
	kr2, err := kms.NewKeyring(newRoot, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr2).Verify(ctx)
	require.NoError(t, err)
	a2, err := kr2.AEAD(ctx, "fields")
	require.NoError(t, err)
	pt, err := a2.Decrypt(ct, nil)
	require.NoError(t, err, "data is untouched by a rewrap")
	assert.Equal(t, "data", string(pt))
	assert.Contains(t, f.log.actions(), audit.ActionKeyRewrap)
}

func TestRewrapResumesAfterFailure(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	for _, n := range []string{"a", "b"} {
		_, err := f.admin.Create(ctx, n, kms.PurposeAEAD)
		require.NoError(t, err)
	}
	nd := &countingDriver{Driver: insecuremem.NewDriver()}
	newRoot := kms.NewRootKey(&failAfter{Driver: nd, n: 1}, kms.RootKeyOptions{Name: "new-root", MaxAttempts: 1})
	n, err := f.admin.Rewrap(ctx, newRoot)
	require.Error(t, err)
	assert.Equal(t, 1, n)
	// Half way, both keysets still open.
	for _, name := range []string{"a", "b"} {
		require.NoError(t, f.kr.Refresh(ctx, name))
	}
	n, err = f.admin.Rewrap(ctx, newRoot)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only what was left is rewrapped")
}

// failAfter fails every call after the first n.
type failAfter struct {
	kms.Driver
	n     int
	calls atomic.Int64
}

func (f *failAfter) Wrap(ctx context.Context, p, ad []byte) ([]byte, error) {
	if f.calls.Add(1) > int64(f.n) && f.calls.Load() < int64(f.n)+2 {
		return nil, errors.New("boom")
	}
	return f.Driver.Wrap(ctx, p, ad)
}

func TestKeyOperationsAreAudited(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	v1, _ := f.admin.Create(audit.WithActor(ctx, "ops-alice"), "fields", kms.PurposeAEAD)
	assert.Equal(t, "ops-alice", f.log.events[0].Actor, "the actor comes from the context")
	_, _ = f.admin.Rotate(ctx, "fields")
	_ = f.admin.Disable(ctx, "fields", v1.ID)
	_ = f.admin.Enable(ctx, "fields", v1.ID)
	_ = f.admin.Destroy(ctx, "fields", v1.ID)
	_ = f.admin.Destroy(ctx, "fields", 999) // fails: reported as a failure
	var buf bytes.Buffer
	_, _ = f.admin.Backup(ctx, &buf)
	_, _ = f.admin.Verify(ctx)
	assert.Equal(t, []audit.Action{
		audit.ActionKeyCreate, audit.ActionKeyRotate, audit.ActionKeyDisable, audit.ActionKeyEnable,
		audit.ActionKeyDestroy, audit.ActionKeyDestroy, audit.ActionKeyBackup, audit.ActionKeyVerify,
	}, f.log.actions())
	last := f.log.events[5]
	assert.Equal(t, audit.OutcomeFailure, last.Outcome)
	assert.Equal(t, string(piiguard.CodeNotFound), last.Error)
	assert.Equal(t, "fields", last.KeyName)

	f.log.fail = errors.New("sink down")
	_, err := f.admin.Rotate(ctx, "fields")
	require.Error(t, err, "a key operation whose event was not recorded says so")
	assert.Contains(t, err.Error(), "audit event was not recorded")
}

func TestClosedKeyring(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	require.NoError(t, f.kr.Close())
	require.NoError(t, f.kr.Close())
	_, err = f.kr.AEAD(ctx, "fields")
	assert.ErrorIs(t, err, kms.ErrClosed)
	_, err = f.admin.Rotate(ctx, "fields")
	assert.ErrorIs(t, err, kms.ErrClosed)
	_, err = f.kr.SubjectKey(ctx, "c")
	assert.ErrorIs(t, err, kms.ErrClosed)
}

func TestErrorsAndEventsLeakNoKeyMaterial(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	a, _ := f.kr.AEAD(ctx, "fields")
	secret := []byte("S3CRET-PLAINTEXT-4111111111111111")
	ct, _ := a.Encrypt(secret, nil)
	rec, _ := f.store.GetKeyset(ctx, "fields")

	var errs []error
	_, err = a.Decrypt(ct, []byte("wrong"))
	errs = append(errs, err)
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	_, err = a.Decrypt(bad, nil)
	errs = append(errs, err)
	_, err = a.Decrypt(ct[:3], nil)
	errs = append(errs, err)
	_, err = f.root.Unwrap(ctx, rec.EncryptedKeyset, nil)
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		msg := err.Error()
		for _, s := range [][]byte{secret, ct, rec.WrappedDataKey, rec.EncryptedKeyset} {
			assert.NotContains(t, msg, string(s))
			assert.NotContains(t, msg, fmt.Sprintf("%x", s))
		}
	}
	for _, e := range f.log.events {
		assert.False(t, strings.Contains(fmt.Sprintf("%+v", e), string(secret)))
	}
	assert.NotContains(t, f.kr.String(), string(secret))
}

func TestSubjectErrorsDoNotNameTheSubject(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	subject := "alice@example.com" // applications sometimes use e-mail addresses as IDs
	_, err := f.kr.SubjectKey(ctx, subject)
	require.NoError(t, err)
	require.NoError(t, f.admin.DestroySubjectKey(ctx, subject))
	_, err = f.kr.SubjectKey(ctx, subject)
	require.ErrorIs(t, err, kms.ErrDestroyed)
	assert.NotContains(t, err.Error(), subject)
	var ke *kms.KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, subject, ke.Keyset, "the ID stays available to the caller")
	err = f.admin.DestroySubjectKey(ctx, "bob@example.com")
	require.ErrorIs(t, err, kms.ErrNotFound)
	assert.NotContains(t, err.Error(), "bob@example.com")
}

func TestEnsureExistingMakesNoBackendCallNorEvent(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	wraps, events := f.drv.wraps.Load(), len(f.log.actions())
	for i := 0; i < 10; i++ {
		require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	}
	assert.Equal(t, wraps, f.drv.wraps.Load(), "an existing keyset is not created again")
	assert.Len(t, f.log.actions(), events, "and no failed create is reported")

	// Subject keys: the first creates the wrapping keyset; later ones make
	// no root key call at all.
	_, err := f.kr.SubjectKey(ctx, "c-1")
	require.NoError(t, err)
	wraps = f.drv.wraps.Load()
	for i := 2; i < 50; i++ {
		_, err := f.kr.SubjectKey(ctx, fmt.Sprintf("c-%d", i))
		require.NoError(t, err)
	}
	assert.Equal(t, wraps, f.drv.wraps.Load(), "new subject keys need no root key call")
	creates := 0
	for _, a := range f.log.actions() {
		if a == audit.ActionKeyCreate {
			creates++
		}
	}
	assert.Equal(t, 2, creates, "one create for fields, one for the subjects keyset, no failed attempts")
}
