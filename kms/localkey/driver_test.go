package localkey_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/localkey"
)

const (
	goldenKeyFile    = "testdata/rootkey-v1.json"
	goldenVectors    = "testdata/rootkey-v1-vectors.json"
	testPassphrase   = "local-test-passphrase"
	secretPassphrase = "S3CRET-PASSPHRASE-do-not-leak"
)

var fastKDF = localkey.Options{InsecureFastKDFForTests: true}

// golden reads the golden vectors' passphrase and root key.
func golden(t testing.TB) (passphrase, rootKey []byte) {
	t.Helper()
	data, err := os.ReadFile(goldenVectors)
	require.NoError(t, err)
	var v struct {
		Passphrase string `json:"passphrase"`
		RootKeyHex string `json:"root_key_hex"`
	}
	require.NoError(t, json.Unmarshal(data, &v))
	rootKey, err = hex.DecodeString(v.RootKeyHex)
	require.NoError(t, err)
	return []byte(v.Passphrase), rootKey
}

func TestLocalDriverConformance(t *testing.T) {
	passphrase, rootKey := golden(t)
	dir := t.TempDir()
	var n atomic.Int64
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{
		// The golden file: a known root key, so the suite can look for it.
		New: func(context.Context) (kms.Driver, error) {
			return localkey.Open(goldenKeyFile, passphrase, localkey.Options{})
		},
		NewOther: func(context.Context) (kms.Driver, error) {
			path := filepath.Join(dir, fmt.Sprintf("other-%d.key", n.Add(1)))
			return localkey.Create(path, []byte(secretPassphrase), fastKDF)
		},
		Secret: [][]byte{rootKey, passphrase, []byte(secretPassphrase)},
	})
}

func TestCreateLocalKeyFileThenOpenSameKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	created, err := localkey.Create(path, []byte(testPassphrase), fastKDF)
	require.NoError(t, err)
	defer created.Close()
	assert.Equal(t, path, created.Path())
	assert.Len(t, created.KeyID(), 32)

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file mode")
	}

	opened, err := localkey.Open(path, []byte(testPassphrase), localkey.Options{})
	require.NoError(t, err)
	defer opened.Close()
	assert.Equal(t, created.KeyID(), opened.KeyID())

	ctx := context.Background()
	ct, err := created.Wrap(ctx, []byte("data key"), []byte("ad"))
	require.NoError(t, err)
	pt, err := opened.Unwrap(ctx, ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(pt))
}

func TestCreateLocalKeyFileWritesDocumentedFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	d, err := localkey.Create(path, []byte(testPassphrase), localkey.Options{}) // default cost
	require.NoError(t, err)
	defer d.Close()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		KeyID   string `json:"key_id"`
		KDF     struct {
			Name      string `json:"name"`
			Time      uint32 `json:"time"`
			MemoryKiB uint32 `json:"memory_kib"`
			Threads   uint8  `json:"threads"`
			Salt      []byte `json:"salt"`
		} `json:"kdf"`
		Nonce     []byte `json:"nonce"`
		SealedKey []byte `json:"sealed_key"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	assert.Equal(t, "piiguard.rootkey", f.Format)
	assert.Equal(t, 1, f.Version)
	assert.Equal(t, d.KeyID(), f.KeyID)
	assert.Equal(t, "argon2id", f.KDF.Name)
	assert.Equal(t, localkey.DefaultKDFParams(), localkey.KDFParams{Time: f.KDF.Time, MemoryKiB: f.KDF.MemoryKiB, Threads: f.KDF.Threads})
	assert.Len(t, f.KDF.Salt, 16)
	assert.Len(t, f.Nonce, 12)
	assert.Len(t, f.SealedKey, 48)
}

func TestCreateLocalKeyFileRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	require.NoError(t, os.WriteFile(path, []byte("precious"), 0o600))
	_, err := localkey.Create(path, []byte(testPassphrase), fastKDF)
	require.ErrorIs(t, err, kms.ErrAlreadyExists)
	assert.Contains(t, err.Error(), path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(data))
}

func TestCreateLocalKeyFileConcurrentCreatorsOneWins(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	const n = 8
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	for range n {
		wg.Go(func() {
			d, err := localkey.Create(path, []byte(testPassphrase), fastKDF)
			switch {
			case err == nil:
				won.Add(1)
				_ = d.Close()
			case assert.ErrorIs(t, err, kms.ErrAlreadyExists):
				lost.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), won.Load(), "exactly one creator wins")
	assert.Equal(t, int64(n-1), lost.Load())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "temporary files left behind")
	assert.Equal(t, "root.key", entries[0].Name())
}

func TestCreateLocalKeyFileRefusesWeakPassphrase(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"", "short", "aaaaaaaaaaaaaaaa", "abcdefghijklmnop"} {
		path := filepath.Join(dir, "root.key")
		_, err := localkey.Create(path, []byte(p), fastKDF)
		require.ErrorIs(t, err, kms.ErrWeakPassphrase, "%q", p)
		_, statErr := os.Stat(path)
		assert.True(t, os.IsNotExist(statErr), "no file is written for a refused passphrase")
	}
}

func TestCreateLocalKeyFileValidatesOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	for name, opts := range map[string]localkey.Options{
		"cost below minimum":       {KDF: localkey.KDFParams{Time: 1, MemoryKiB: 19 << 10}},
		"memory below minimum":     {KDF: localkey.KDFParams{Time: 10, MemoryKiB: 1024}},
		"memory above reader max":  {KDF: localkey.KDFParams{MemoryKiB: 2 << 20}},
		"time above reader max":    {KDF: localkey.KDFParams{Time: 11}},
		"threads above reader max": {KDF: localkey.KDFParams{Threads: 65}},
		"fast and explicit KDF":    {KDF: localkey.KDFParams{Time: 3}, InsecureFastKDFForTests: true},
	} {
		_, err := localkey.Create(path, []byte(testPassphrase), opts)
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, name)
	}
	_, err := localkey.Create("", []byte(testPassphrase), fastKDF)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "empty path")
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err))
}

func TestCreateLocalKeyFileInMissingDirectoryIsNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "root.key")
	_, err := localkey.Create(path, []byte(testPassphrase), fastKDF)
	require.ErrorIs(t, err, kms.ErrNotFound)
	assert.Contains(t, err.Error(), path)
}

func TestOpenLocalKeyFileWrongPassphrase(t *testing.T) {
	wrong := []byte("S3CRET-WRONG-PASSPHRASE")
	_, err := localkey.Open(goldenKeyFile, wrong, localkey.Options{})
	require.ErrorIs(t, err, kms.ErrWrongPassphrase)
	assert.Equal(t, piiguard.CodeWrongPassphrase, piiguard.ErrorCode(err))
	assert.Contains(t, err.Error(), goldenKeyFile, "the error names the file")
	assert.NotContains(t, err.Error(), "S3CRET")

	_, err = localkey.Open(goldenKeyFile, nil, localkey.Options{})
	require.ErrorIs(t, err, kms.ErrWrongPassphrase)
}

func TestOpenLocalKeyFileMissingIsNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	_, err := localkey.Open(path, []byte(testPassphrase), localkey.Options{})
	require.ErrorIs(t, err, kms.ErrNotFound)
	assert.Contains(t, err.Error(), path)
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err), "Open must not create the file")
}

func TestOpenLocalKeyFileCorruptOrNewer(t *testing.T) {
	passphrase, _ := golden(t)
	good, err := os.ReadFile(goldenKeyFile)
	require.NoError(t, err)
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"truncated":   {good[:len(good)-20], kms.ErrCorrupt},
		"empty":       {nil, kms.ErrCorrupt},
		"version 2":   {bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1), kms.ErrUnsupportedVersion},
		"other files": {[]byte(`{"format":"something.else","version":1}`), kms.ErrCorrupt},
		"huge memory": {bytes.Replace(good, []byte(`"memory_kib": 64,`), []byte(`"memory_kib": 104857600,`), 1), kms.ErrCorrupt},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".key")
		require.NoError(t, os.WriteFile(path, tc.data, 0o600))
		_, err := localkey.Open(path, passphrase, localkey.Options{})
		assert.ErrorIs(t, err, tc.want, name)
		if err != nil {
			assert.Contains(t, err.Error(), path, "%s: the error names the file", name)
		}
	}

	_, err = localkey.Open(dir, passphrase, localkey.Options{})
	assert.ErrorIs(t, err, kms.ErrCorrupt, "a directory is not a key file")
}

func TestOpenLocalKeyFileNeverWrites(t *testing.T) {
	passphrase, _ := golden(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	data, err := os.ReadFile(goldenKeyFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o400))
	before, err := os.Stat(path)
	require.NoError(t, err)

	d, err := localkey.Open(path, passphrase, localkey.Options{})
	require.NoError(t, err)
	require.NoError(t, d.Close())

	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime())
	assert.Equal(t, before.Mode(), after.Mode())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

func TestLocalDriverRevealsNoSecretWhenFormatted(t *testing.T) {
	passphrase, rootKey := golden(t)
	d, err := localkey.Open(goldenKeyFile, passphrase, localkey.Options{})
	require.NoError(t, err)
	defer d.Close()

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("opened", "driver", d)
	j, err := json.Marshal(d)
	require.NoError(t, err)
	forms := []string{logged.String(), string(j), d.String(), d.GoString()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		forms = append(forms, fmt.Sprintf(verb, d))
	}
	for _, f := range forms {
		assert.Contains(t, f, d.KeyID(), "formatting names the key ID: %s", f)
		assert.NotContains(t, f, string(passphrase))
		assert.NotContains(t, f, hex.EncodeToString(rootKey)[:12])
		assert.NotContains(t, f, fmt.Sprint(rootKey)[:12])
	}
	assert.Equal(t, fmt.Sprintf("localkey.Driver(%q, key_id=%s)", goldenKeyFile, d.KeyID()), d.String())
}
