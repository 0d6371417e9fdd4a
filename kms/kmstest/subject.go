package kmstest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// RunSubjectRewrap runs a rotation of the subject keyset to its end over
// store, which must be empty and implement kms.SubjectKeyRewrapper: it
// makes subject keys and data under them, destroys one subject, rotates
// the subject keyset, checks that Destroy refuses the old version, runs
// Admin.RewrapSubjectKeys, destroys the old version, and checks through
// a keyring with a cold cache that every live subject's data still opens
// and the destroyed subject stays destroyed.
func RunSubjectRewrap(t *testing.T, store kms.Store) {
	t.Helper()
	ctx := t.Context()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "kmstest-subjects"})
	t.Cleanup(func() { root.Close() })
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })

	const n = 300 // more than one page
	cts := map[string][]byte{}
	for i := range n {
		id := fmt.Sprintf("kmstest-subject-%03d", i)
		a, err := kr.SubjectKey(ctx, id)
		require.NoError(t, err)
		ct, err := a.Encrypt([]byte(id), []byte("kmstest"))
		require.NoError(t, err)
		cts[id] = ct
	}
	shredded := "kmstest-subject-042"
	require.NoError(t, kms.NewAdmin(kr).DestroySubjectKey(ctx, shredded))
	delete(cts, shredded)

	vs, err := kms.NewAdmin(kr).Versions(ctx, "subjects")
	require.NoError(t, err)
	old := vs[0].ID
	_, err = kms.NewAdmin(kr).Rotate(ctx, "subjects")
	require.NoError(t, err)
	require.ErrorIs(t, kms.NewAdmin(kr).Destroy(ctx, "subjects", old), kms.ErrInvalidArgument, "the old version still wraps subject keys")

	rep, err := kms.NewAdmin(kr).RewrapSubjectKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, kms.SubjectRewrapReport{Checked: n - 1, Rewrapped: n - 1}, rep)
	require.NoError(t, kms.NewAdmin(kr).Destroy(ctx, "subjects", old))

	cold, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	defer cold.Close()
	for id, ct := range cts {
		a, err := cold.SubjectKey(ctx, id)
		require.NoError(t, err, id)
		pt, err := a.Decrypt(ct, []byte("kmstest"))
		require.NoError(t, err, id)
		require.Equal(t, id, string(pt))
	}
	_, err = cold.SubjectKey(ctx, shredded)
	require.ErrorIs(t, err, kms.ErrDestroyed)
}
