package ff1

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNISTSamples runs the nine FF1 samples NIST published with SP 800-38G
// (AES-128, -192 and -256; radix 10 with and without a tweak, radix 36 with
// one) through the string and the numeral APIs, in both directions.
func TestNISTSamples(t *testing.T) {
	t.Parallel()
	vectors := loadVectors(t, "testdata/nist_ff1_vectors.json")
	require.Len(t, vectors, 9)
	for _, v := range vectors {
		t.Run(fmt.Sprintf("sample%d_%s_radix%d", v.Sample, v.Cipher, v.Radix), func(t *testing.T) {
			t.Parallel()
			alphabet := map[int]*Alphabet{10: Digits(), 36: Base36()}[v.Radix]
			require.NotNil(t, alphabet, "no alphabet for radix %d", v.Radix)
			runVector(t, v, alphabet)
		})
	}
}

// TestACVPVectors runs a subset of NIST's ACVP FF1 test vectors: longer
// inputs (up to 56 numerals, which take the math/big path), radix 26 and 64,
// and tweaks up to 16 bytes.
func TestACVPVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t, "testdata/acvp_ff1_vectors.json") {
		t.Run(fmt.Sprintf("tc%d_%s_radix%d_len%d", v.TcID, v.Direction, v.Radix, len(v.PT)), func(t *testing.T) {
			t.Parallel()
			alphabet, err := NewAlphabet(v.Alphabet)
			require.NoError(t, err)
			require.Equal(t, v.Radix, alphabet.Radix())
			runVector(t, v, alphabet)
		})
	}
}

// runVector checks a vector in both directions (FF1 is a permutation, so an
// ACVP decrypt vector is also an encrypt one), through the string API, the
// numeral API and the reference implementation.
func runVector(t *testing.T, v vector, alphabet *Alphabet) {
	t.Helper()
	key, tweak := mustHex(t, v.Key), mustHex(t, v.Tweak)
	c := mustCipher(t, key, v.Radix, Options{})

	ct, err := c.EncryptString(alphabet, v.PT, tweak)
	require.NoError(t, err)
	assert.Equal(t, v.CT, ct, "encrypt")
	pt, err := c.DecryptString(alphabet, v.CT, tweak)
	require.NoError(t, err)
	assert.Equal(t, v.PT, pt, "decrypt")

	// The numeral API and the reference implementation agree.
	x, err := alphabet.decode(v.PT)
	require.NoError(t, err)
	y, err := alphabet.decode(v.CT)
	require.NoError(t, err)
	got, err := c.Encrypt(x, tweak)
	require.NoError(t, err)
	assert.Equal(t, y, got, "Encrypt numerals")
	got, err = c.Decrypt(y, tweak)
	require.NoError(t, err)
	assert.Equal(t, x, got, "Decrypt numerals")
	assert.Equal(t, y, refFF1(mustBlock(t, key), v.Radix, x, tweak, false), "reference encrypt")
	assert.Equal(t, x, refFF1(mustBlock(t, key), v.Radix, y, tweak, true), "reference decrypt")
}
