package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// nistKey128 is the AES-128 key of NIST's FF1 samples 1 to 3.
const nistKey128 = "2B7E151628AED2A6ABF7158809CF4F3C"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func mustBlock(t testing.TB, key []byte) cipher.Block {
	t.Helper()
	b, err := aes.NewCipher(key)
	require.NoError(t, err)
	return b
}

func mustCipher(t testing.TB, key []byte, radix int, opts Options) *Cipher {
	t.Helper()
	c, err := NewAES(key, radix, opts)
	require.NoError(t, err)
	return c
}

// vector is one known-answer test from a golden file.
type vector struct {
	Sample    int    `json:"sample"`
	TcID      int    `json:"tcId"`
	Cipher    string `json:"cipher"`
	Direction string `json:"direction"`
	Key       string `json:"key"`
	Radix     int    `json:"radix"`
	Alphabet  string `json:"alphabet"`
	Tweak     string `json:"tweak"`
	PT        string `json:"pt"`
	CT        string `json:"ct"`
}

func loadVectors(t *testing.T, path string) []vector {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Source  string   `json:"source"`
		Vectors []vector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

func randNumerals(rng *rand.Rand, radix, n int) []uint16 {
	x := make([]uint16, n)
	for i := range x {
		x[i] = uint16(rng.IntN(radix))
	}
	return x
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
