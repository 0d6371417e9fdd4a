package ff1

import (
	"bytes"
	"crypto/des"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testRadixes = []int{2, 3, 7, 10, 16, 26, 36, 62, 64, 100, 255, 256, 1000, 4096, 65535, 65536}

func TestMinLenAndDefaultMaxLen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ radix, min, max int }{
		{2, 20, 192},
		{3, 13, 120},
		{10, 6, 56},
		{26, 5, 40},
		{36, 4, 36},
		{62, 4, 32},
		{64, 4, 32},
		{1000, 2, 18},
		{65536, 2, 12},
		{1, 0, 0},
		{65537, 0, 0},
	} {
		assert.Equal(t, tc.min, MinLen(tc.radix), "MinLen(%d)", tc.radix)
		assert.Equal(t, tc.max, DefaultMaxLen(tc.radix), "DefaultMaxLen(%d)", tc.radix)
		if tc.min == 0 {
			continue
		}
		// The domain bound is exact: radix^min ≥ 10^6 > radix^(min-1) unless
		// the length floor of 2 binds.
		assert.GreaterOrEqual(t, math.Pow(float64(tc.radix), float64(tc.min)), float64(MinDomainSize))
		if tc.min > 2 {
			assert.Less(t, math.Pow(float64(tc.radix), float64(tc.min-1)), float64(MinDomainSize))
		}
	}
}

// TestRoundTripAllRadixes checks, for radixes from 2 to 2^16 and every
// length the cipher accepts, that Decrypt inverts Encrypt, that the output
// stays in the domain, and that the result equals the reference
// implementation's.
func TestRoundTripAllRadixes(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	for _, radix := range testRadixes {
		t.Run(fmt.Sprintf("radix%d", radix), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(radix), 1))
			c := mustCipher(t, key, radix, Options{})
			block := mustBlock(t, key)
			for n := c.MinLen(); n <= c.MaxLen(); n++ {
				x := randNumerals(rng, radix, n)
				tweak := randBytes(rng, rng.IntN(40))
				y, err := c.Encrypt(x, tweak)
				require.NoError(t, err)
				require.Len(t, y, n)
				for _, d := range y {
					require.Less(t, int(d), radix)
				}
				require.Equal(t, refFF1(block, radix, x, tweak, false), y, "n=%d tweak=%d", n, len(tweak))
				back, err := c.Decrypt(y, tweak)
				require.NoError(t, err)
				require.Equal(t, x, back, "n=%d", n)
			}
		})
	}
}

// TestFastPathMatchesBigPath runs every length that takes the uint64 path
// through the math/big path too, with tweak lengths around block
// boundaries.
func TestFastPathMatchesBigPath(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, radix := range testRadixes {
		c := mustCipher(t, key, radix, Options{})
		for n := c.MinLen(); n-n/2 <= c.fastMax && n <= c.MaxLen(); n++ {
			for _, tl := range []int{0, 1, 5, 11, 15, 16, 17, 31, 32, 33} {
				x := randNumerals(rng, radix, n)
				tweak := randBytes(rng, tl)
				for _, decrypt := range []bool{false, true} {
					fast, slow := make([]uint16, n), make([]uint16, n)
					c.cryptFast(fast, x, tweak, decrypt)
					c.cryptBig(slow, x, tweak, decrypt)
					require.Equal(t, slow, fast, "radix=%d n=%d tweak=%d decrypt=%v", radix, n, tl, decrypt)
				}
			}
		}
	}
}

// TestExtremeValues covers all-zero and all-maximum inputs, where the
// modular additions wrap.
func TestExtremeValues(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	block := mustBlock(t, key)
	for _, radix := range testRadixes {
		c := mustCipher(t, key, radix, Options{})
		for _, n := range []int{c.MinLen(), c.MinLen() + 1, c.MaxLen()} {
			for _, fill := range []uint16{0, uint16(radix - 1)} {
				x := slices.Repeat([]uint16{fill}, n)
				y, err := c.Encrypt(x, nil)
				require.NoError(t, err)
				require.Equal(t, refFF1(block, radix, x, nil, false), y)
				back, err := c.Decrypt(y, nil)
				require.NoError(t, err)
				require.Equal(t, x, back)
			}
		}
	}
}

func TestLongInputsWithLargerMaxLen(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	block := mustBlock(t, key)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, radix := range []int{2, 10, 62, 65536} {
		c := mustCipher(t, key, radix, Options{MaxLen: 300, MaxTweakLen: 1000})
		assert.Equal(t, 300, c.MaxLen())
		assert.Equal(t, 1000, c.MaxTweakLen())
		for _, n := range []int{57, 129, 300} {
			x := randNumerals(rng, radix, n)
			tweak := randBytes(rng, 999)
			y, err := c.Encrypt(x, tweak)
			require.NoError(t, err)
			require.Equal(t, refFF1(block, radix, x, tweak, false), y, "radix=%d n=%d", radix, n)
			back, err := c.Decrypt(y, tweak)
			require.NoError(t, err)
			require.Equal(t, x, back)
		}
	}
}

func TestDeterministicAndSensitiveToKeyAndTweak(t *testing.T) {
	t.Parallel()
	c1 := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	c2 := mustCipher(t, bytes.Repeat([]byte{7}, 16), 10, Options{})
	pan := "4111111111111111"

	a, err := c1.EncryptString(Digits(), pan, []byte("field:card"))
	require.NoError(t, err)
	b, err := c1.EncryptString(Digits(), pan, []byte("field:card"))
	require.NoError(t, err)
	assert.Equal(t, a, b, "same key and tweak give the same ciphertext")
	assert.Len(t, a, len(pan))
	assert.NotEqual(t, pan, a)

	other, err := c1.EncryptString(Digits(), pan, []byte("field:phone"))
	require.NoError(t, err)
	assert.NotEqual(t, a, other, "another tweak gives another ciphertext")
	noTweak, err := c1.EncryptString(Digits(), pan, nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, noTweak)
	otherKey, err := c2.EncryptString(Digits(), pan, []byte("field:card"))
	require.NoError(t, err)
	assert.NotEqual(t, a, otherKey, "another key gives another ciphertext")

	// A wrong tweak decrypts to something else, without an error.
	wrong, err := c1.DecryptString(Digits(), a, []byte("field:phone"))
	require.NoError(t, err)
	assert.NotEqual(t, pan, wrong)
}

func TestInputIsNotModified(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	for _, n := range []int{16, 50} { // fast and big paths
		x := slices.Repeat([]uint16{1, 2, 3, 4, 5}, 10)[:n]
		orig := slices.Clone(x)
		tweak := []byte("tweak")
		y, err := c.Encrypt(x, tweak)
		require.NoError(t, err)
		assert.Equal(t, orig, x)
		assert.Equal(t, []byte("tweak"), tweak)
		yc := slices.Clone(y)
		_, err = c.Decrypt(y, tweak)
		require.NoError(t, err)
		assert.Equal(t, yc, y)
	}
}

func TestLengthAndTweakLimits(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	for _, n := range []int{0, 1, 2, 5} {
		_, err := c.Encrypt(make([]uint16, n), nil)
		require.ErrorIs(t, err, ErrDomainTooSmall, "n=%d", n)
		assert.True(t, strings.HasPrefix(err.Error(), "ff1: "), err.Error())
		assert.Contains(t, err.Error(), "1000000")
		_, err = c.Decrypt(make([]uint16, n), nil)
		require.ErrorIs(t, err, ErrDomainTooSmall)
	}
	_, err := c.Encrypt(make([]uint16, 6), nil)
	require.NoError(t, err, "10^6 is the smallest domain allowed")
	_, err = c.Encrypt(make([]uint16, 56), nil)
	require.NoError(t, err)
	_, err = c.Encrypt(make([]uint16, 57), nil)
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Contains(t, err.Error(), "maximum 56")

	_, err = c.Encrypt(make([]uint16, 10), make([]byte, DefaultMaxTweakLen))
	require.NoError(t, err)
	_, err = c.Encrypt(make([]uint16, 10), make([]byte, DefaultMaxTweakLen+1))
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Contains(t, err.Error(), "tweak")

	_, err = c.EncryptString(Digits(), "12345", nil)
	require.ErrorIs(t, err, ErrDomainTooSmall)

	// Radix 2 needs 20 bits; radix 62 needs 4 characters.
	c2 := mustCipher(t, mustHex(t, nistKey128), 2, Options{})
	_, err = c2.Encrypt(make([]uint16, 19), nil)
	require.ErrorIs(t, err, ErrDomainTooSmall)
	c62 := mustCipher(t, mustHex(t, nistKey128), 62, Options{})
	_, err = c62.EncryptString(Base62(), "aZ9", nil)
	require.ErrorIs(t, err, ErrDomainTooSmall)
	_, err = c62.EncryptString(Base62(), "aZ90", nil)
	require.NoError(t, err)
}

func TestInvalidNumeralNamesPositionNotValue(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	x := []uint16{4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12345, 1}
	_, err := c.Encrypt(x, nil)
	require.ErrorIs(t, err, ErrInvalidInput)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 14, ie.Index)
	assert.False(t, ie.Character)
	assert.Equal(t, "ff1: invalid input: numeral at index 14 is not below the radix", err.Error())
	assert.NotContains(t, err.Error(), "12345")

	_, err = c.Decrypt([]uint16{0, 0, 0, 0, 0, 10}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 5, ie.Index)

	// Radix 65536 accepts every uint16.
	c16 := mustCipher(t, mustHex(t, nistKey128), MaxRadix, Options{})
	_, err = c16.Encrypt([]uint16{math.MaxUint16, math.MaxUint16, 0}, nil)
	require.NoError(t, err)
}

func TestInvalidCharacterNamesPositionNotValue(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	secret := "4111111111111111"
	for _, tc := range []struct {
		in    string
		index int
	}{
		{secret[:5] + "§" + secret[6:], 5},
		{secret[:15] + "a", 15},
		{"٣" + secret[1:], 0}, // an Arabic-Indic digit is not an ASCII digit
		{secret[:3] + " " + secret[4:], 3},
		{secret[:7] + "\xff" + secret[8:], 7}, // not UTF-8
	} {
		_, err := c.EncryptString(Digits(), tc.in, []byte("t"))
		require.ErrorIs(t, err, ErrInvalidInput, "%q", tc.in)
		var ie *InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, tc.index, ie.Index, "%q", tc.in)
		assert.True(t, ie.Character)
		msg := err.Error()
		assert.Equal(t, fmt.Sprintf("ff1: invalid input: character at index %d is not in the alphabet", tc.index), msg)
		assert.NotContains(t, msg, "4111")
		_, err = c.DecryptString(Digits(), tc.in, nil)
		require.ErrorIs(t, err, ErrInvalidInput)
	}

	// The index counts characters, not bytes.
	greek, err := NewAlphabet("αβγδεζηθικ")
	require.NoError(t, err)
	_, err = c.EncryptString(greek, "αβγδεζηθικa", nil)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 10, ie.Index)
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	c := mustCipher(t, key, 10, Options{MaxTweakLen: 8})
	tweak := []byte("SECRET-TWEAK")
	calls := []func() error{
		func() error { _, err := c.EncryptString(Digits(), "98765", tweak); return err },
		func() error { _, err := c.EncryptString(Digits(), "9876543210", tweak); return err },
		func() error { _, err := c.EncryptString(Digits(), "98765§3210", nil); return err },
		func() error { _, err := c.EncryptString(Base36(), "98765§3210", nil); return err },
		func() error { _, err := NewAES(key[:15], 10, Options{}); return err },
	}
	for i, call := range calls {
		err := call()
		require.Error(t, err, "call %d", i)
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "ff1: "), msg)
		for _, s := range []string{"98765", "3210", "SECRET", "§", "2b7e", "2B7E"} {
			assert.NotContains(t, msg, s, "call %d: %s", i, msg)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	t.Parallel()
	key := mustHex(t, nistKey128)
	for _, n := range []int{0, 8, 15, 17, 31, 33, 64} {
		_, err := NewAES(make([]byte, n), 10, Options{})
		require.ErrorIs(t, err, ErrInvalidParams, "key of %d bytes", n)
	}
	for _, n := range []int{16, 24, 32} {
		_, err := NewAES(make([]byte, n), 10, Options{})
		require.NoError(t, err, "key of %d bytes", n)
	}
	for _, r := range []int{-1, 0, 1, MaxRadix + 1} {
		_, err := NewAES(key, r, Options{})
		require.ErrorIs(t, err, ErrInvalidParams, "radix %d", r)
	}
	_, err := New(nil, 10, Options{})
	require.ErrorIs(t, err, ErrInvalidParams)
	desBlock, err := des.NewCipher(make([]byte, 8))
	require.NoError(t, err)
	_, err = New(desBlock, 10, Options{})
	require.ErrorIs(t, err, ErrInvalidParams)
	assert.Contains(t, err.Error(), "block size is 8 bytes")

	_, err = NewAES(key, 10, Options{MaxLen: -1})
	require.ErrorIs(t, err, ErrInvalidParams)
	_, err = NewAES(key, 10, Options{MaxLen: 5})
	require.ErrorIs(t, err, ErrDomainTooSmall)
	_, err = NewAES(key, 10, Options{MaxLen: 6})
	require.NoError(t, err)
	_, err = NewAES(key, 10, Options{MaxTweakLen: -1})
	require.ErrorIs(t, err, ErrInvalidParams)
	if math.MaxInt > math.MaxUint32 {
		over := int64(math.MaxUint32) + 1
		big := int(over) // a variable: the constant would not compile on 32-bit
		_, err = NewAES(key, 10, Options{MaxLen: big})
		require.ErrorIs(t, err, ErrInvalidParams)
		_, err = NewAES(key, 10, Options{MaxTweakLen: big})
		require.ErrorIs(t, err, ErrInvalidParams)
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 36, Options{})
	assert.Equal(t, 36, c.Radix())
	assert.Equal(t, 4, c.MinLen())
	assert.Equal(t, 36, c.MaxLen())
	assert.Equal(t, DefaultMaxTweakLen, c.MaxTweakLen())
}

func TestAlphabetMustMatchRadix(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	_, err := c.EncryptString(Base36(), "0123456789", nil)
	require.ErrorIs(t, err, ErrInvalidParams)
	assert.Contains(t, err.Error(), "alphabet has 36 characters, cipher radix is 10")
	_, err = c.DecryptString(nil, "0123456789", nil)
	require.ErrorIs(t, err, ErrInvalidParams)
}

// TestCipherRedactsKeyMaterial proves that no formatting path prints the
// AES key schedule held by a Cipher.
func TestCipherRedactsKeyMaterial(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	want := "ff1.Cipher{radix: 10, key: REDACTED}"
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		assert.Equal(t, want, fmt.Sprintf(verb, c), verb)
	}
	assert.Equal(t, want, c.String())
	assert.Equal(t, want, c.GoString())
	assert.Equal(t, "ff1.Cipher(nil)", (*Cipher)(nil).String())
	// Nested in a struct, printed and marshalled.
	holder := struct{ C *Cipher }{c}
	assert.Equal(t, "{C:"+want+"}", fmt.Sprintf("%+v", holder))
	js, err := json.Marshal(holder)
	require.NoError(t, err)
	assert.JSONEq(t, `{"C":"`+want+`"}`, string(js))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("made cipher", "cipher", c)
	assert.Contains(t, logged.String(), `"cipher":"`+want+`"`)
}

// TestConcurrentUse shares one Cipher between goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := mustCipher(t, mustHex(t, nistKey128), 10, Options{})
	want, err := c.EncryptString(Digits(), "4111111111111111", []byte("t"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				in := "4111111111111111"
				if (g+i)%2 == 0 {
					in = strings.Repeat("7", 40) // big path
				}
				ct, err := c.EncryptString(Digits(), in, []byte("t"))
				if err == nil && in == "4111111111111111" && ct != want {
					err = errors.New("ciphertext changed under concurrency")
				}
				if err == nil {
					var pt string
					pt, err = c.DecryptString(Digits(), ct, []byte("t"))
					if err == nil && pt != in {
						err = errors.New("round trip failed under concurrency")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
