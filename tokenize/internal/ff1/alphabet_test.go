package ff1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadyAlphabets(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "0123456789", Digits().String())
	assert.Equal(t, 10, Digits().Radix())
	assert.Equal(t, "0123456789abcdefghijklmnopqrstuvwxyz", Base36().String())
	assert.Equal(t, 36, Base36().Radix())
	assert.Equal(t, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", Base62().String())
	assert.Equal(t, 62, Base62().Radix())
	assert.Same(t, Digits(), Digits(), "ready alphabets are shared")
}

func TestNewAlphabetErrors(t *testing.T) {
	t.Parallel()
	for name, chars := range map[string]string{
		"empty":             "",
		"one character":     "a",
		"ASCII duplicate":   "abca",
		"non-ASCII dup":     "αβγα",
		"invalid UTF-8":     "ab\xffc",
		"replacement char":  "ab\uFFFD",
		"65537 characters":  string(manyRunes(MaxRadix + 1)),
		"duplicate at 6000": string(append(manyRunes(6000), 0x4e00+5)),
	} {
		_, err := NewAlphabet(chars)
		require.ErrorIs(t, err, ErrInvalidParams, name)
		assert.True(t, strings.HasPrefix(err.Error(), "ff1: "), err.Error())
	}
	a, err := NewAlphabet(string(manyRunes(MaxRadix)))
	require.NoError(t, err)
	assert.Equal(t, MaxRadix, a.Radix())
}

// manyRunes returns n distinct runes: the ASCII printable range, then CJK
// ideographs and beyond, skipping surrogates and U+FFFD.
func manyRunes(n int) []rune {
	out := make([]rune, 0, n)
	for r := rune(0x21); len(out) < n; r++ {
		if r == 0x7f {
			r = 0x4e00
		}
		if (r >= 0xd800 && r <= 0xdfff) || r == 0xfffd {
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestNonASCIIAlphabetRoundTrip(t *testing.T) {
	t.Parallel()
	a, err := NewAlphabet("0123456789ÄÖÜäöüß€")
	require.NoError(t, err)
	require.Equal(t, 18, a.Radix())
	c := mustCipher(t, mustHex(t, nistKey128), 18, Options{})
	in := "ß€0äÖ9Ü1"
	ct, err := c.EncryptString(a, in, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, 8, len([]rune(ct)))
	for _, r := range ct {
		assert.Contains(t, a.String(), string(r))
	}
	pt, err := c.DecryptString(a, ct, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, in, pt)
}

func TestAlphabetRadix65536(t *testing.T) {
	t.Parallel()
	a, err := NewAlphabet(string(manyRunes(MaxRadix)))
	require.NoError(t, err)
	c := mustCipher(t, mustHex(t, nistKey128), MaxRadix, Options{})
	in := string(manyRunes(MaxRadix)[MaxRadix-12:])
	ct, err := c.EncryptString(a, in, nil)
	require.NoError(t, err)
	pt, err := c.DecryptString(a, ct, nil)
	require.NoError(t, err)
	assert.Equal(t, in, pt)
}
