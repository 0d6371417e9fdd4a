package multi_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/multi"
)

// The golden vectors pin the container format, version 1. The backends
// are AES-256-GCM drivers under public test keys (fixedKeyDriver), so a
// later build can unwrap every container with either backend alone.
const goldenFile = "container-v1-vectors.json"

type goldenBackend struct {
	Name   string `json:"name"`
	KeyHex string `json:"key_hex"`
}

type goldenVectors struct {
	Comment  string          `json:"comment"`
	Backends []goldenBackend `json:"backends"`
	Wraps    []struct {
		PlaintextHex      string `json:"plaintext_hex"`
		AssociatedDataHex string `json:"associated_data_hex"`
		ContainerHex      string `json:"container_hex"`
	} `json:"wraps"`
}

var updateGolden sync.Once

func loadGolden(t *testing.T) goldenVectors {
	t.Helper()
	path := filepath.Join("testdata", goldenFile)
	if os.Getenv("PIIGUARD_UPDATE_GOLDEN") == "1" {
		updateGolden.Do(func() { writeGolden(t, path) })
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v goldenVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.Len(t, v.Backends, 2)
	require.NotEmpty(t, v.Wraps)
	return v
}

func goldenDriver(t *testing.T, bs ...goldenBackend) *multi.Driver {
	t.Helper()
	var backends []multi.Backend
	for _, b := range bs {
		key, err := hex.DecodeString(b.KeyHex)
		require.NoError(t, err)
		backends = append(backends, multi.Backend{Name: b.Name, Driver: newFixedKeyDriver(key)})
	}
	d, err := multi.New(backends, multi.Options{})
	require.NoError(t, err)
	return d
}

func writeGolden(t *testing.T, path string) {
	bs := []goldenBackend{{Name: "hsm-primary"}, {Name: "aws:eu-west-1"}}
	for i := range bs {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		bs[i].KeyHex = hex.EncodeToString(k)
	}
	d := goldenDriver(t, bs...)
	var wraps []map[string]string
	for _, c := range []struct{ pt, ad string }{
		{"", ""},
		{"data key: 0123456789abcdef0123456789abcdef", "kms/keyset/customers"},
		{"\x00\x01\x02", "only three bytes"},
	} {
		ct, err := d.Wrap(t.Context(), []byte(c.pt), []byte(c.ad))
		require.NoError(t, err)
		wraps = append(wraps, map[string]string{
			"plaintext_hex":       hex.EncodeToString([]byte(c.pt)),
			"associated_data_hex": hex.EncodeToString([]byte(c.ad)),
			"container_hex":       hex.EncodeToString(ct),
		})
	}
	v := map[string]any{
		"comment":  "Test vectors of the multi-backend container, version 1. Each backend is AES-256-GCM (12-byte nonce || ciphertext || tag) under a public test key; each container must unwrap with either backend alone. Later releases must keep unwrapping them.",
		"backends": bs,
		"wraps":    wraps,
	}
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
}

func TestGoldenContainersUnwrapWithEitherBackend(t *testing.T) {
	v := loadGolden(t)
	for _, bs := range [][]goldenBackend{v.Backends, {v.Backends[0]}, {v.Backends[1]}, {v.Backends[1], v.Backends[0]}} {
		d := goldenDriver(t, bs...)
		for i, w := range v.Wraps {
			ct, _ := hex.DecodeString(w.ContainerHex)
			ad, _ := hex.DecodeString(w.AssociatedDataHex)
			pt, err := d.Unwrap(t.Context(), ct, ad)
			require.NoError(t, err, "vector %d with %d backend(s)", i, len(bs))
			assert.Equal(t, w.PlaintextHex, hex.EncodeToString(pt), "vector %d", i)
		}
	}
	// A backend of another name opens nothing.
	d := goldenDriver(t, goldenBackend{Name: "renamed", KeyHex: v.Backends[0].KeyHex})
	ct, _ := hex.DecodeString(v.Wraps[0].ContainerHex)
	_, err := d.Unwrap(t.Context(), ct, nil)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
}
