package kms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// newRoot returns a fresh in-memory root key named name.
func newRoot(t testing.TB, name string) *kms.RootKey {
	t.Helper()
	r := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: name})
	t.Cleanup(func() { r.Close() })
	return r
}

func keysetNames(t testing.TB, s kms.Store) []string {
	t.Helper()
	recs, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	return out
}

func TestFirstKeysetWritesTheManifest(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.store.GetManifest(ctx)
	require.ErrorIs(t, err, kms.ErrNotFound)
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	require.NoError(t, f.admin.Ensure(ctx, "search", kms.PurposePRF))
	m, err := f.store.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "test-root", m.RootKey)
	assert.NotEmpty(t, m.RootCheck)
	assert.Equal(t, []string{"fields", "search"}, m.Keysets)
}

// TestEnsureRefusesToReplaceAVanishedKeyset: a keyset the store held and
// lost is an error, never a reason to make a new one.
func TestEnsureRefusesToReplaceAVanishedKeyset(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	require.NoError(t, f.admin.Ensure(ctx, "search", kms.PurposePRF))
	require.NoError(t, f.store.DeleteKeyset(ctx, "fields")) // the loss

	for name, op := range map[string]func() error{
		"ensure": func() error { return f.admin.Ensure(ctx, "fields", kms.PurposeAEAD) },
		"create": func() error { _, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD); return err },
	} {
		err := op()
		require.ErrorIs(t, err, kms.ErrKeysMissing, name)
		assert.Equal(t, piiguard.CodeKeysMissing, piiguard.ErrorCode(err))
		assert.Contains(t, err.Error(), `"fields"`, "the error names the keyset")
		assert.Contains(t, err.Error(), "restore", "the error says how to recover")
		assert.Equal(t, []string{"search"}, keysetNames(t, f.store), "%s made nothing", name)
	}
	// A keyset the store never held is still created.
	require.NoError(t, f.admin.Ensure(ctx, "tokens", kms.PurposeDeterministicAEAD))
}

// TestCreateOfAnExistingListedKeysetIsAlreadyExists: the manifest does not
// turn an ordinary name clash into a missing-keys error.
func TestCreateOfAnExistingListedKeysetIsAlreadyExists(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.ErrorIs(t, err, kms.ErrAlreadyExists)
	assert.NotErrorIs(t, err, kms.ErrKeysMissing)
}

// TestNewRootKeyCannotCreateInAnotherRootsStore: a root key file replaced
// by a new one at the same path (same name, other key) is refused before
// anything is written.
func TestNewRootKeyCannotCreateInAnotherRootsStore(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	impostor := newRoot(t, "test-root") // same name, another key
	kr, err := kms.NewKeyring(impostor, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	for _, name := range []string{"fields", "search"} {
		err = kms.NewAdmin(kr).Ensure(ctx, name, kms.PurposeAEAD)
		if name == "fields" {
			require.NoError(t, err, "an existing keyset costs one read and no root key call")
			continue
		}
		require.ErrorIs(t, err, kms.ErrWrongRootKey)
		assert.Equal(t, piiguard.CodeWrongRootKey, piiguard.ErrorCode(err))
		assert.Contains(t, err.Error(), "test-root")
	}
	assert.Equal(t, []string{"fields"}, keysetNames(t, f.store), "nothing written")

	other := newRoot(t, "other-root")
	kr, err = kms.NewKeyring(other, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Create(ctx, "search", kms.PurposePRF)
	require.ErrorIs(t, err, kms.ErrWrongRootKey)
	assert.Contains(t, err.Error(), `"test-root"`, "names the store's root key")
}

// TestStoreWithoutManifestIsAdoptedOnlyByItsRootKey: a store written before
// manifests gets one on the next create, if the root key opens it.
func TestStoreWithoutManifestIsAdoptedOnlyByItsRootKey(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	legacy := &noManifestStore{Store: f.store} // what an old store looked like
	legacy.drop()

	wrong, err := kms.NewKeyring(newRoot(t, "test-root"), legacy, kms.KeyringOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, kms.NewAdmin(wrong).Ensure(ctx, "search", kms.PurposePRF), kms.ErrWrongRootKey)
	assert.Equal(t, []string{"fields"}, keysetNames(t, legacy))
	_, err = legacy.GetManifest(ctx)
	require.ErrorIs(t, err, kms.ErrNotFound)

	kr, err := kms.NewKeyring(f.root, legacy, kms.KeyringOptions{})
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "search", kms.PurposePRF))
	m, err := legacy.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"fields", "search"}, m.Keysets, "the adopted store lists what it held")
}

// noManifestStore wraps a memory store and can forget its manifest, as a
// store from before manifests.
type noManifestStore struct {
	*insecuremem.Store
	forgot bool
}

func (s *noManifestStore) drop() { s.forgot = true }

func (s *noManifestStore) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	if s.forgot {
		return nil, fmt.Errorf("manifest: %w", kms.ErrNotFound)
	}
	return s.Store.GetManifest(ctx)
}

func (s *noManifestStore) PutManifest(ctx context.Context, m *kms.Manifest) error {
	if s.forgot {
		s.forgot = false
		m.Revision, _ = s.revision(ctx)
	}
	return s.Store.PutManifest(ctx, m)
}

func (s *noManifestStore) revision(ctx context.Context) (int64, error) {
	m, err := s.Store.GetManifest(ctx)
	if err != nil {
		return 0, err
	}
	return m.Revision, nil
}

// TestManifestSelfHealsAfterACrashBetweenWrites: a keyset written without
// its manifest update (a crash in between) is listed by the next update.
func TestManifestSelfHealsAfterACrashBetweenWrites(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "a", kms.PurposeAEAD))
	s := &failManifestStore{Store: f.store, fail: 1}
	kr, err := kms.NewKeyring(f.root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Create(ctx, "b", kms.PurposeAEAD)
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "keyset created, but")
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "b", kms.PurposeAEAD), "the keyset exists")
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "c", kms.PurposeAEAD))
	m, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, m.Keysets)
}

type failManifestStore struct {
	*insecuremem.Store
	fail int
}

func (s *failManifestStore) PutManifest(ctx context.Context, m *kms.Manifest) error {
	if s.fail > 0 {
		s.fail--
		return fmt.Errorf("disk gone: %w", kms.ErrUnavailable)
	}
	return s.Store.PutManifest(ctx, m)
}

// TestRestoreIntoAStoreThatLostItsKeysets: the way back from
// ErrKeysMissing is a restore from backup.
func TestRestoreIntoAStoreThatLostItsKeysets(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	a, err := f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	ct, err := a.Encrypt([]byte("Ada"), []byte("ad"))
	require.NoError(t, err)
	var backup bytes.Buffer
	_, err = f.admin.Backup(ctx, &backup)
	require.NoError(t, err)
	require.NoError(t, f.store.DeleteKeyset(ctx, "fields"))
	require.ErrorIs(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD), kms.ErrKeysMissing)

	saved := backup.Bytes()
	// Not with another root key.
	wrong, err := kms.NewKeyring(newRoot(t, "test-root"), f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(wrong).Restore(ctx, bytes.NewReader(saved), "backup.json")
	require.ErrorIs(t, err, kms.ErrWrongRootKey)
	assert.Empty(t, keysetNames(t, f.store))

	n, err := f.admin.Restore(ctx, bytes.NewReader(saved), "backup.json")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	a, err = f.kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	pt, err := a.Decrypt(ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "Ada", string(pt), "what the lost keyset sealed opens again")
}

func TestRestoreIntoANewStoreWritesItsManifest(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	require.NoError(t, f.admin.Ensure(ctx, "search", kms.PurposePRF))
	var backup bytes.Buffer
	_, err := f.admin.Backup(ctx, &backup)
	require.NoError(t, err)
	fresh := insecuremem.NewStore()
	kr, err := kms.NewKeyring(f.root, fresh, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Restore(ctx, &backup, "backup.json")
	require.NoError(t, err)
	m, err := fresh.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"fields", "search"}, m.Keysets)
}

// TestRewrapMovesTheManifestToTheNewRootKey: after a migration, the new
// root key is the store's; the old one is refused.
func TestRewrapMovesTheManifestToTheNewRootKey(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	to := newRoot(t, "hsm-root")
	_, err := f.admin.Rewrap(ctx, to)
	require.NoError(t, err)
	m, err := f.store.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hsm-root", m.RootKey)

	kr, err := kms.NewKeyring(to, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "search", kms.PurposePRF))
	old, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, kms.NewAdmin(old).Ensure(ctx, "tokens", kms.PurposePRF), kms.ErrWrongRootKey)
}

// TestRewrapThatFailsOnTheManifestCanBeRunAgain: the keyring keeps the old
// root key until the manifest moved.
func TestRewrapThatFailsOnTheManifestCanBeRunAgain(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	s := &failManifestStore{Store: f.store}
	kr, err := kms.NewKeyring(f.root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	to := newRoot(t, "hsm-root")
	s.fail = 1
	_, err = kms.NewAdmin(kr).Rewrap(ctx, to)
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "run Rewrap again")
	_, err = kms.NewAdmin(kr).Rewrap(ctx, to)
	require.NoError(t, err)
	m, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hsm-root", m.RootKey)
}

func TestVerifyReportsMissingKeysets(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	require.NoError(t, f.admin.Ensure(ctx, "search", kms.PurposePRF))
	require.NoError(t, f.store.DeleteKeyset(ctx, "search"))
	rep, err := f.admin.Verify(ctx)
	require.ErrorIs(t, err, kms.ErrVerification)
	assert.False(t, rep.OK())
	assert.Equal(t, []string{"search"}, rep.Missing)
	require.Len(t, rep.Failures, 1)
	assert.ErrorIs(t, rep.Failures[0].Err, kms.ErrKeysMissing)
	assert.Equal(t, 1, rep.Keysets, "the keyset that is there still verifies")
}

// TestCorruptManifestIsRefused: a manifest that does not validate is
// ErrCorrupt, and nothing is created on it.
func TestCorruptManifestIsRefused(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	m, err := f.store.GetManifest(ctx)
	require.NoError(t, err)
	m.Keysets = []string{"z", "a"}
	require.NoError(t, f.store.PutManifest(ctx, m))
	err = f.admin.Ensure(ctx, "search", kms.PurposePRF)
	require.ErrorIs(t, err, kms.ErrCorrupt)
	assert.Equal(t, []string{"fields"}, keysetNames(t, f.store))
}

func TestManifestErrorsLeakNoKeyBytes(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	m, err := f.store.GetManifest(ctx)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(newRoot(t, "test-root"), f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	err = kms.NewAdmin(kr).Ensure(ctx, "search", kms.PurposePRF)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), fmt.Sprintf("%x", m.RootCheck))
	assert.NotContains(t, err.Error(), string(m.RootCheck))
	var ke *kms.KeyError
	require.True(t, errors.As(err, &ke))
	assert.Equal(t, "search", ke.Keyset)
	_ = time.Second
}

// TestWrongRootKeyIsNamedWhenAKeysetDoesNotOpen: opening a keyset with a
// root key that is not the store's says so, instead of only "invalid
// ciphertext".
func TestWrongRootKeyIsNamedWhenAKeysetDoesNotOpen(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	kr, err := kms.NewKeyring(newRoot(t, "test-root"), f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kr.AEAD(ctx, "fields")
	require.ErrorIs(t, err, kms.ErrWrongRootKey)
	assert.Contains(t, err.Error(), "another key")

	// Without a manifest (an old store), the plain cause.
	legacy := &noManifestStore{Store: f.store}
	legacy.drop()
	kr, err = kms.NewKeyring(newRoot(t, "test-root"), legacy, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kr.AEAD(ctx, "fields")
	require.ErrorIs(t, err, kms.ErrInvalidCiphertext)
}
