package kms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// subjectCiphertexts makes n subjects' keys and returns a ciphertext of
// each, keyed by subject ID.
func subjectCiphertexts(t *testing.T, kr *kms.Keyring, prefix string, n int) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		a, err := kr.SubjectKey(ctx, id)
		require.NoError(t, err)
		ct, err := a.Encrypt([]byte("data of "+id), nil)
		require.NoError(t, err)
		out[id] = ct
	}
	return out
}

// requireSubjectsOpen checks, through a keyring with a cold cache, that
// every subject's data still opens.
func requireSubjectsOpen(t *testing.T, f *fixture, opts kms.KeyringOptions, cts map[string][]byte) {
	t.Helper()
	kr, err := kms.NewKeyring(f.root, f.store, opts)
	require.NoError(t, err)
	defer kr.Close()
	for id, ct := range cts {
		a, err := kr.SubjectKey(ctx, id)
		require.NoError(t, err, id)
		pt, err := a.Decrypt(ct, nil)
		require.NoError(t, err, id)
		require.Equal(t, "data of "+id, string(pt))
	}
}

func oldestVersion(t *testing.T, kr *kms.Keyring, name string) uint32 {
	t.Helper()
	vs, err := kms.NewAdmin(kr).Versions(ctx, name)
	require.NoError(t, err)
	return vs[0].ID
}

// Rotating the subject keyset, re-wrapping the subject keys and destroying
// the old version: every live subject still opens, a destroyed one stays
// destroyed, and Destroy refuses the old version until nothing depends on
// it.
func TestRewrapSubjectKeysThenDestroyTheOldVersion(t *testing.T) {
	opts := kms.KeyringOptions{SubjectKeyset: "subject-wrap"}
	f := newFixture(t, opts)
	cts := subjectCiphertexts(t, f.kr, "customer", 600) // more than two pages
	shredded := "customer-007"
	require.NoError(t, f.admin.DestroySubjectKey(ctx, shredded))
	delete(cts, shredded)

	old := oldestVersion(t, f.kr, "subject-wrap")
	v2, err := f.admin.Rotate(ctx, "subject-wrap")
	require.NoError(t, err)
	later := subjectCiphertexts(t, f.kr, "later", 3) // made under the new primary

	err = f.admin.Destroy(ctx, "subject-wrap", old)
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "599 subject keys")
	assert.Contains(t, err.Error(), "RewrapSubjectKeys")
	assert.NotContains(t, err.Error(), "customer-", "no subject ID in the error")
	last := f.log.events[len(f.log.events)-1]
	assert.Equal(t, audit.ActionKeyDestroy, last.Action)
	assert.Equal(t, audit.OutcomeFailure, last.Outcome, "the refusal is audited")

	rep, err := f.admin.RewrapSubjectKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, kms.SubjectRewrapReport{Checked: 602, Rewrapped: 599}, rep)
	last = f.log.events[len(f.log.events)-1]
	assert.Equal(t, audit.ActionKeyRewrap, last.Action)
	assert.Equal(t, v2.ID, last.KeyID)
	assert.Contains(t, last.Reason, "599 rewrapped")

	again, err := f.admin.RewrapSubjectKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, kms.SubjectRewrapReport{Checked: 602}, again, "a second pass has nothing to do")

	require.NoError(t, f.admin.Destroy(ctx, "subject-wrap", old), "nothing depends on the old version now")
	requireSubjectsOpen(t, f, opts, cts)
	requireSubjectsOpen(t, f, opts, later)
	_, err = f.kr.SubjectKey(ctx, shredded)
	require.ErrorIs(t, err, kms.ErrDestroyed, "a destroyed subject stays destroyed")
}

// A subject destroyed while a pass runs is skipped, never revived; a
// subject key wrapped by another keyset (an older configuration) moves to
// the subject keyset.
func TestRewrapSubjectKeysSkipsDestroyedAndMovesOtherKeysets(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{SubjectKeyset: "old-wrap"})
	cts := subjectCiphertexts(t, f.kr, "moved", 5)

	opts := kms.KeyringOptions{SubjectKeyset: "new-wrap"}
	kr, err := kms.NewKeyring(f.root, f.store, opts)
	require.NoError(t, err)
	defer kr.Close()
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, "new-wrap", kms.PurposeAEAD))
	rep, err := kms.NewAdmin(kr).RewrapSubjectKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, kms.SubjectRewrapReport{Checked: 5, Rewrapped: 5}, rep)
	for id := range cts {
		rec, err := f.store.GetSubjectKey(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "new-wrap", rec.Keyset)
	}
	requireSubjectsOpen(t, f, opts, cts)

	// Destruction racing a pass.
	racing := subjectCiphertexts(t, kr, "racing", 50)
	_, err = kms.NewAdmin(kr).Rotate(ctx, "new-wrap")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := range racing {
			assert.NoError(t, kms.NewAdmin(kr).DestroySubjectKey(context.Background(), id))
		}
	}()
	rep, err = kms.NewAdmin(kr).RewrapSubjectKeys(ctx)
	require.NoError(t, err)
	<-done
	// Every key was under the old primary: each one read was rewrapped,
	// or skipped because it was destroyed after being read.
	assert.Equal(t, rep.Checked, rep.Rewrapped+rep.Skipped)
	assert.GreaterOrEqual(t, rep.Rewrapped, 5, "the subjects nobody destroyed")
	for id := range racing {
		rec, err := f.store.GetSubjectKey(ctx, id)
		require.NoError(t, err)
		assert.False(t, rec.Destroyed.IsZero(), "%s stays destroyed", id)
		assert.Empty(t, rec.EncryptedKey)
	}
}

// A store that cannot list subject keys: no pass, and Destroy refuses the
// subject keyset's versions, since it cannot check them.
func TestRewrapSubjectKeysNeedsAListingStore(t *testing.T) {
	store := plainStore{insecuremem.NewStore()}
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	defer root.Close()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	defer kr.Close()
	_, err = kr.SubjectKey(ctx, "c1")
	require.NoError(t, err)
	old := oldestVersion(t, kr, "subjects")
	_, err = kms.NewAdmin(kr).Rotate(ctx, "subjects")
	require.NoError(t, err)

	_, err = kms.NewAdmin(kr).RewrapSubjectKeys(ctx)
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "SubjectKeyRewrapper")
	err = kms.NewAdmin(kr).Destroy(ctx, "subjects", old)
	require.ErrorIs(t, err, kms.ErrInvalidArgument)

	require.NoError(t, kr.Close())
	_, err = kms.NewAdmin(kr).RewrapSubjectKeys(ctx)
	require.ErrorIs(t, err, kms.ErrClosed)
}

// plainStore hides the memory store's SubjectKeyRewrapper methods.
type plainStore struct{ s *insecuremem.Store }

func (p plainStore) GetKeyset(ctx context.Context, name string) (*kms.KeysetRecord, error) {
	return p.s.GetKeyset(ctx, name)
}
func (p plainStore) ListKeysets(ctx context.Context) ([]*kms.KeysetRecord, error) {
	return p.s.ListKeysets(ctx)
}
func (p plainStore) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	return p.s.PutKeyset(ctx, rec)
}
func (p plainStore) GetSubjectKey(ctx context.Context, id string) (*kms.SubjectKeyRecord, error) {
	return p.s.GetSubjectKey(ctx, id)
}
func (p plainStore) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
	return p.s.PutSubjectKey(ctx, rec)
}
func (p plainStore) DestroySubjectKey(ctx context.Context, id string, at time.Time) error {
	return p.s.DestroySubjectKey(ctx, id, at)
}
func (p plainStore) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	return p.s.GetManifest(ctx)
}
func (p plainStore) PutManifest(ctx context.Context, m *kms.Manifest) error {
	return p.s.PutManifest(ctx, m)
}
