package kms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// Destroying a version of the subject keyset would erase every subject key
// it wraps at once: Destroy refuses, and the subjects stay readable.
func TestDestroyRefusesSubjectKeysetVersions(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{SubjectKeyset: "subject-wrap"})
	a, err := f.kr.SubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	ct, err := a.Encrypt([]byte("alice@example.com"), nil)
	require.NoError(t, err)

	vs, err := f.kr.Versions(ctx, "subject-wrap")
	require.NoError(t, err)
	require.Len(t, vs, 1)
	old := vs[0].ID
	_, err = f.kr.Rotate(ctx, "subject-wrap")
	require.NoError(t, err)

	err = f.kr.Destroy(ctx, "subject-wrap", old)
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "DestroySubjectKey")
	assert.NotContains(t, err.Error(), "customer-1")
	assert.Equal(t, audit.OutcomeFailure, f.log.events[len(f.log.events)-1].Outcome, "the refusal is audited")

	vs, err = f.kr.Versions(ctx, "subject-wrap")
	require.NoError(t, err)
	for _, v := range vs {
		assert.NotEqual(t, kms.StatusDestroyed, v.Status)
	}
	// Another keyring (a cold cache) still opens the subject's data.
	kr2, err := kms.NewKeyring(f.root, f.store, kms.KeyringOptions{SubjectKeyset: "subject-wrap"})
	require.NoError(t, err)
	a2, err := kr2.SubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	pt, err := a2.Decrypt(ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", string(pt))

	// Other keysets' old versions are destroyed as before.
	_, err = f.kr.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	vs, err = f.kr.Versions(ctx, "fields")
	require.NoError(t, err)
	_, err = f.kr.Rotate(ctx, "fields")
	require.NoError(t, err)
	require.NoError(t, f.kr.Destroy(ctx, "fields", vs[0].ID))
}
