package kms_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/localkey"
)

// The golden backup was written by this test with PIIGUARD_UPDATE_GOLDEN=1,
// under the golden root key file of kms/localkey (goldenRootKeyFile).
// Later releases must keep reading it: never regenerate it to make a
// change pass.
const goldenRootPassphrase = "golden-test-passphrase-v1"

// goldenRootKeyFile is kms/localkey's golden key file (version 1).
var goldenRootKeyFile = filepath.Join("localkey", "testdata", "rootkey-v1.json")

type backupVectors struct {
	Keyset         string `json:"keyset"`
	AssociatedData string `json:"associated_data"`
	Plaintext      string `json:"plaintext"`
	Ciphertext     []byte `json:"ciphertext"`
	PRFKeyset      string `json:"prf_keyset"`
	PRFInput       string `json:"prf_input"`
	PRFOutput      []byte `json:"prf_output"`
}

func goldenRoot(t *testing.T) *kms.RootKey {
	t.Helper()
	d, err := localkey.Open(goldenRootKeyFile, []byte(goldenRootPassphrase), localkey.Options{})
	require.NoError(t, err)
	r := kms.NewRootKey(d, kms.RootKeyOptions{Name: "golden"})
	t.Cleanup(func() { r.Close() })
	return r
}

func TestBackupGoldenV1(t *testing.T) {
	root := goldenRoot(t)
	if os.Getenv("PIIGUARD_UPDATE_GOLDEN") == "1" {
		kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
		require.NoError(t, err)
		_, err = kms.NewAdmin(kr).Create(ctx, "fields", kms.PurposeAEAD)
		require.NoError(t, err)
		_, err = kms.NewAdmin(kr).Rotate(ctx, "fields")
		require.NoError(t, err)
		_, err = kms.NewAdmin(kr).Create(ctx, "search", kms.PurposePRF)
		require.NoError(t, err)
		a, _ := kr.AEAD(ctx, "fields")
		v := backupVectors{Keyset: "fields", AssociatedData: "customer/email", Plaintext: "golden@example.com", PRFKeyset: "search", PRFInput: "golden@example.com"}
		v.Ciphertext, err = a.Encrypt([]byte(v.Plaintext), []byte(v.AssociatedData))
		require.NoError(t, err)
		ps, _ := kr.PRF(ctx, "search")
		v.PRFOutput, err = ps.ComputePrimaryPRF([]byte(v.PRFInput), 32)
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = kms.NewAdmin(kr).Backup(ctx, &buf)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("testdata", "backup-v1.json"), buf.Bytes(), 0o644))
		vb, _ := json.MarshalIndent(v, "", "  ")
		require.NoError(t, os.WriteFile(filepath.Join("testdata", "backup-v1-vectors.json"), append(vb, '\n'), 0o644))
	}

	data, err := os.ReadFile(filepath.Join("testdata", "backup-v1.json"))
	require.NoError(t, err)
	var v backupVectors
	vb, err := os.ReadFile(filepath.Join("testdata", "backup-v1-vectors.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(vb, &v))

	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	rep, err := kms.NewAdmin(kr).VerifyBackup(ctx, bytes.NewReader(data), "backup-v1.json")
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Checked)
	n, err := kms.NewAdmin(kr).Restore(ctx, bytes.NewReader(data), "backup-v1.json")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	a, err := kr.AEAD(ctx, v.Keyset)
	require.NoError(t, err)
	pt, err := a.Decrypt(v.Ciphertext, []byte(v.AssociatedData))
	require.NoError(t, err)
	assert.Equal(t, v.Plaintext, string(pt))
	ps, err := kr.PRF(ctx, v.PRFKeyset)
	require.NoError(t, err)
	out, err := ps.ComputePrimaryPRF([]byte(v.PRFInput), 32)
	require.NoError(t, err)
	assert.Equal(t, v.PRFOutput, out)
}
