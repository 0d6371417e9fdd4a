package pkcs11

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
)

// The golden vectors pin the version 1 wrap format. The key is public test
// data that protects nothing. Without a token, the tests check the format
// against AES-GCM in Go (what the token computes); under the integration
// tag, the same key is imported into SoftHSM2 and the driver must unwrap
// every vector (softhsm_integration_test.go).
const goldenVectorsFile = "ciphertext-v1-vectors.json"

var updateGolden sync.Once

type goldenVectors struct {
	Comment string `json:"comment"`
	KeyHex  string `json:"key_hex"`
	Wraps   []struct {
		PlaintextHex      string `json:"plaintext_hex"`
		AssociatedDataHex string `json:"associated_data_hex"`
		CiphertextHex     string `json:"ciphertext_hex"`
	} `json:"wraps"`
	Malformed []struct {
		Reason        string `json:"reason"`
		CiphertextHex string `json:"ciphertext_hex"`
	} `json:"malformed"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func loadGolden(t testing.TB) goldenVectors {
	t.Helper()
	path := filepath.Join("testdata", goldenVectorsFile)
	if os.Getenv("PIIGUARD_UPDATE_GOLDEN") == "1" {
		updateGolden.Do(func() { writeGolden(t, path) })
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v goldenVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Wraps)
	require.NotEmpty(t, v.Malformed)
	return v
}

// referenceGCM is AES-256-GCM in Go: what the token computes.
func referenceGCM(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	a, err := cipher.NewGCM(block)
	require.NoError(t, err)
	return a
}

// referenceWrap is the format, written independently of the driver.
func referenceWrap(t testing.TB, key, plaintext, ad []byte) []byte {
	iv := make([]byte, 12)
	_, _ = rand.Read(iv)
	out := append([]byte{0x01}, iv...)
	return referenceGCM(t, key).Seal(out, iv, plaintext, append([]byte{0x01}, ad...))
}

func writeGolden(t testing.TB, path string) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	v := map[string]any{
		"comment": "Test vectors of the pkcs11 driver's wrap format, version 1: 0x01 || IV (12) || AES-256-GCM ciphertext || tag (16), GCM associated data 0x01 || associated data. The key is public test data; the integration tests import it into SoftHSM2 and unwrap every vector. Later releases must keep unwrapping them.",
		"key_hex": hex.EncodeToString(key),
	}
	var wraps []map[string]string
	for _, c := range []struct{ pt, ad string }{
		{"", ""},
		{"a", ""},
		{"data key: 0123456789abcdef0123456789abcdef", "piiguard:keyset=customers"},
		{string(bytes.Repeat([]byte{0xa5}, 32)), "kms/keyset/fields/aead"},
		{"", "only associated data"},
	} {
		wraps = append(wraps, map[string]string{
			"plaintext_hex":       hex.EncodeToString([]byte(c.pt)),
			"associated_data_hex": hex.EncodeToString([]byte(c.ad)),
			"ciphertext_hex":      hex.EncodeToString(referenceWrap(t, key, []byte(c.pt), []byte(c.ad))),
		})
	}
	v["wraps"] = wraps
	good := referenceWrap(t, key, []byte("x"), nil)
	v["malformed"] = []map[string]string{
		{"reason": "empty", "ciphertext_hex": ""},
		{"reason": "version byte only", "ciphertext_hex": "01"},
		{"reason": "version 0", "ciphertext_hex": "00" + hex.EncodeToString(good[1:])},
		{"reason": "version 2", "ciphertext_hex": "02" + hex.EncodeToString(good[1:])},
		{"reason": "IV and no tag", "ciphertext_hex": hex.EncodeToString(good[:13])},
		{"reason": "one byte short of a tag", "ciphertext_hex": hex.EncodeToString(good[:28])},
	}
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
}

func TestFormatGoldenVectorsOpenWithReferenceGCM(t *testing.T) {
	v := loadGolden(t)
	key := unhex(t, v.KeyHex)
	gcm := referenceGCM(t, key)
	for i, w := range v.Wraps {
		ct := unhex(t, w.CiphertextHex)
		blob, err := parseBlob(ct)
		require.NoError(t, err, "vector %d", i)
		assert.Len(t, blob.iv, 12)
		assert.Equal(t, ct, blob.marshal(), "vector %d: parse and marshal", i)
		ad := unhex(t, w.AssociatedDataHex)
		pt, err := gcm.Open(nil, blob.iv, blob.sealed, gcmAD(ad))
		require.NoError(t, err, "vector %d: the format's GCM associated data is 0x01 || associated data", i)
		assert.Equal(t, w.PlaintextHex, hex.EncodeToString(pt), "vector %d", i)
		// Without the version byte in the GCM associated data, nothing opens.
		_, err = gcm.Open(nil, blob.iv, blob.sealed, ad)
		assert.Error(t, err, "vector %d", i)
	}
}

func TestFormatMalformedVectorsAreInvalidCiphertext(t *testing.T) {
	for _, m := range loadGolden(t).Malformed {
		_, err := parseBlob(unhex(t, m.CiphertextHex))
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, m.Reason)
		assert.Equal(t, piiguard.CodeInvalidCiphertext, piiguard.ErrorCode(err), m.Reason)
	}
}

func TestFormatLengthBounds(t *testing.T) {
	min := make([]byte, overhead)
	min[0] = formatV1
	blob, err := parseBlob(min)
	require.NoError(t, err, "an empty plaintext's ciphertext is 29 bytes")
	assert.Len(t, blob.sealed, tagSize)

	max := make([]byte, 1+ivSize+maxPlaintext+tagSize)
	max[0] = formatV1
	_, err = parseBlob(max)
	require.NoError(t, err)
	_, err = parseBlob(append(max, 0))
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, "longer than the largest plaintext's ciphertext")
}

func TestFormatErrorsHoldNoCiphertextBytes(t *testing.T) {
	ct := append([]byte{0x07}, bytes.Repeat([]byte{0xab}, 40)...)
	_, err := parseBlob(ct)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "abab")
	assert.Contains(t, err.Error(), "0x07", "the version byte is named: it is not secret")
}

// FuzzParseBlob checks that the parser never panics, fails only with
// ErrInvalidCiphertext, and that what it accepts is within bounds and
// survives a marshal and a second parse unchanged.
//
//	go test -run '^$' -fuzz FuzzParseBlob -fuzztime 20s ./kms/pkcs11/
func FuzzParseBlob(f *testing.F) {
	v := loadGolden(f)
	for _, w := range v.Wraps {
		f.Add(unhex(f, w.CiphertextHex))
	}
	for _, m := range v.Malformed {
		f.Add(unhex(f, m.CiphertextHex))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		blob, err := parseBlob(data)
		if err != nil {
			if !errors.Is(err, kms.ErrInvalidCiphertext) || piiguard.ErrorCode(err) != piiguard.CodeInvalidCiphertext {
				t.Fatalf("error is not ErrInvalidCiphertext: %v", err)
			}
			return
		}
		if len(blob.iv) != ivSize || len(blob.sealed) < tagSize || len(blob.sealed) > maxSealed {
			t.Fatalf("accepted wrong lengths: iv %d, sealed %d", len(blob.iv), len(blob.sealed))
		}
		m := blob.marshal()
		if !bytes.Equal(m, data) {
			t.Fatal("marshal does not give back the input")
		}
		again, err := parseBlob(m)
		if err != nil || !bytes.Equal(again.marshal(), m) {
			t.Fatalf("a marshal and a parse changed the ciphertext: %v", err)
		}
	})
}
