package filestore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func TestFileStoreConformance(t *testing.T) {
	kmstest.RunStoreTests(t, func(t *testing.T) kms.Store {
		s, err := filestore.Open(t.TempDir())
		require.NoError(t, err)
		return s
	})
}

func TestFileStoresOnOneDirectoryLoseNoRotation(t *testing.T) {
	dir := t.TempDir()
	var stores []kms.Store
	for i := 0; i < 3; i++ {
		s, err := filestore.Open(dir)
		require.NoError(t, err)
		stores = append(stores, s)
	}
	kmstest.RunConcurrentRotations(t, stores, 2, 5)
}

func TestKeyringOnFileStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	s, err := filestore.Open(dir)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(root, s, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	a, _ := kr.AEAD(ctx, "fields")
	ct, _ := a.Encrypt([]byte("x"), nil)
	sk, err := kr.SubjectKey(ctx, "customer/1")
	require.NoError(t, err)
	sct, _ := sk.Encrypt([]byte("y"), nil)

	s2, err := filestore.Open(dir)
	require.NoError(t, err)
	kr2, err := kms.NewKeyring(root, s2, kms.KeyringOptions{})
	require.NoError(t, err)
	a2, err := kr2.AEAD(ctx, "fields")
	require.NoError(t, err)
	_, err = a2.Decrypt(ct, nil)
	require.NoError(t, err)
	sk2, err := kr2.SubjectKey(ctx, "customer/1")
	require.NoError(t, err)
	_, err = sk2.Decrypt(sct, nil)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr2).Verify(ctx)
	require.NoError(t, err)
}

func TestFileStoreSubjectRewrap(t *testing.T) {
	s, err := filestore.Open(t.TempDir())
	require.NoError(t, err)
	kmstest.RunSubjectRewrap(t, s)
}
