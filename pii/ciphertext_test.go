package pii

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rawCT(keyID uint32, n int) []byte {
	b := make([]byte, minRawLen+n)
	b[0] = 1
	b[1], b[2], b[3], b[4] = byte(keyID>>24), byte(keyID>>16), byte(keyID>>8), byte(keyID)
	for i := 5; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func TestCiphertextEncodingRoundTrips(t *testing.T) {
	raw := rawCT(0x0a0b0c0d, 7)
	enc := string(encodeCiphertext(raw))
	assert.True(t, strings.HasPrefix(enc, "pg1."))
	got, id, err := parseCiphertext(enc)
	require.NoError(t, err)
	assert.Equal(t, raw, got)
	assert.Equal(t, uint32(0x0a0b0c0d), id)
}

func TestParseCiphertextRejectsMalformedValues(t *testing.T) {
	good := string(encodeCiphertext(rawCT(7, 3)))
	body := good[4:]
	odd := string(encodeCiphertext(rawCT(7, 4))) // 37 bytes: the last character carries 2 bits
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, odd[len(odd)-1])
	nonCanonical := odd[:len(odd)-1] + string(alphabet[last|1]) // sets a padding bit
	legacy := rawCT(7, 3)
	legacy[0] = 0
	for name, tc := range map[string]struct {
		in  string
		err error
	}{
		"unmarked":          {"Lucy", ErrInvalidCiphertext},
		"future version":    {"pg2." + body, ErrUnsupportedFormat},
		"truncated":         {good[:len(good)-5], ErrInvalidCiphertext},
		"too short":         {"pg1.AQAAAAc", ErrInvalidCiphertext},
		"padding":           {good + "==", ErrInvalidCiphertext},
		"std alphabet":      {"pg1." + strings.NewReplacer("-", "+", "_", "/").Replace(body) + "+/", ErrInvalidCiphertext},
		"line break":        {good[:20] + "\n" + good[20:], ErrInvalidCiphertext},
		"non-canonical":     {nonCanonical, ErrInvalidCiphertext},
		"not a tink prefix": {"pg1." + base64.RawURLEncoding.EncodeToString(legacy), ErrInvalidCiphertext},
		"too long":          {"pg1." + strings.Repeat("A", maxEncodedLen), ErrInvalidCiphertext},
		"space":             {"pg1. " + body, ErrInvalidCiphertext},
	} {
		_, _, err := parseCiphertext(tc.in)
		assert.ErrorIs(t, err, tc.err, name)
	}
	assert.True(t, marked("pg1.x") && marked([]byte("pg9.")))
	assert.False(t, marked("pg0.x") || marked("PG1.x") || marked("pg1") || marked("xpg1."))
}

// FuzzParseCiphertext: the decoder of untrusted stored values never panics,
// and accepts only canonical encodings: whatever it accepts re-encodes to
// the same string, and has a key ID and room for an IV and a tag.
func FuzzParseCiphertext(f *testing.F) {
	f.Add(string(encodeCiphertext(rawCT(1, 0))))
	f.Add(string(encodeCiphertext(rawCT(0xffffffff, 40))))
	f.Add("pg1.")
	f.Add("pg2.AAAA")
	f.Add("pg1.AQAAAAEA\nAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		raw, id, err := parseCiphertext(s)
		if err != nil {
			if raw != nil || id != 0 {
				t.Fatal("a failed parse returned data")
			}
			return
		}
		if got := string(encodeCiphertext(raw)); got != s {
			t.Fatalf("accepted a non-canonical encoding")
		}
		if len(raw) < minRawLen || raw[0] != 1 {
			t.Fatal("accepted a raw ciphertext without prefix, IV and tag")
		}
		if !bytes.Equal(raw[1:5], []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}) {
			t.Fatal("key ID does not match the prefix")
		}
	})
}
