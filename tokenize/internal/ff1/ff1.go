package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

const (
	// MinRadix and MaxRadix bound the radix (the size of the alphabet), as
	// in NIST SP 800-38G: radix ∈ [2 .. 2^16].
	MinRadix = 2
	MaxRadix = 1 << 16

	// MinDomainSize is the smallest domain radix^length that FF1 accepts
	// (NIST SP 800-38G Rev. 1). Shorter inputs fail with ErrDomainTooSmall.
	MinDomainSize = 1_000_000

	// DefaultMaxTweakLen is the longest tweak, in bytes, accepted when
	// Options.MaxTweakLen is zero.
	DefaultMaxTweakLen = 256

	// maxSpecLen is the bound of the standard on both the input length and
	// the tweak length: each is encoded in 4 bytes of the P block.
	maxSpecLen = math.MaxUint32

	blockSize = 16
	rounds    = 10
)

// Options configures a Cipher. The zero value gives the defaults.
type Options struct {
	// MaxLen is the longest input, in numerals, the cipher accepts. Zero
	// means DefaultMaxLen(radix). It must be at least MinLen(radix) and at
	// most 2^32−1 (the standard's bound). Long inputs cost time quadratic in
	// their length, so keep the bound near the longest field you protect.
	MaxLen int
	// MaxTweakLen is the longest tweak, in bytes, the cipher accepts. Zero
	// means DefaultMaxTweakLen. It must be at most 2^32−1.
	MaxTweakLen int
}

// Cipher is FF1 over one block cipher key and one radix. It is immutable and
// safe for concurrent use by multiple goroutines. It holds key material (the
// block cipher's key schedule): its String, GoString, Format, LogValue and
// MarshalJSON methods name only the radix. Use it through the *Cipher that
// New and NewAES return.
type Cipher struct {
	block       cipher.Block
	radix       int
	minLen      int
	maxLen      int
	maxTweakLen int

	// pow[i] = radix^i for i ≤ fastMax, the largest exponent whose power
	// fits in a uint64. Halves up to fastMax numerals take the uint64 path.
	pow     [65]uint64
	fastMax int
	// chunk = radix^fastMax: numerals are packed fastMax at a time when
	// converting to and from big.Int.
	chunk uint64
}

// NewAES returns an FF1 cipher for radix over AES with key, which must be 16,
// 24 or 32 bytes (AES-128, AES-192, AES-256). The key is not retained: only
// its AES key schedule is.
func NewAES(key []byte, radix int, opts Options) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, errorf(ErrInvalidParams, "AES key is %d bytes, want 16, 24 or 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil { // unreachable: the length was checked
		return nil, errorf(ErrInvalidParams, "AES key rejected")
	}
	return New(block, radix, opts)
}

// New returns an FF1 cipher for radix over block, which must have a 16-byte
// block size. NIST approves FF1 with AES only; use NewAES unless the block
// comes from elsewhere (for example a key held in another library). The
// block must be safe for concurrent use if the Cipher is shared, as the
// crypto/aes one is.
func New(block cipher.Block, radix int, opts Options) (*Cipher, error) {
	if block == nil {
		return nil, errorf(ErrInvalidParams, "nil block cipher")
	}
	if bs := block.BlockSize(); bs != blockSize {
		return nil, errorf(ErrInvalidParams, "block size is %d bytes, want %d", bs, blockSize)
	}
	if radix < MinRadix || radix > MaxRadix {
		return nil, errorf(ErrInvalidParams, "radix %d is outside [%d, %d]", radix, MinRadix, MaxRadix)
	}
	c := &Cipher{block: block, radix: radix, minLen: MinLen(radix)}

	switch {
	case opts.MaxLen == 0:
		c.maxLen = DefaultMaxLen(radix)
	case opts.MaxLen < 0 || int64(opts.MaxLen) > maxSpecLen:
		return nil, errorf(ErrInvalidParams, "MaxLen %d is outside [1, 2^32-1]", opts.MaxLen)
	case opts.MaxLen < c.minLen:
		return nil, errorf(ErrDomainTooSmall, "MaxLen %d is below the minimum length %d for radix %d", opts.MaxLen, c.minLen, radix)
	default:
		c.maxLen = opts.MaxLen
	}
	switch {
	case opts.MaxTweakLen == 0:
		c.maxTweakLen = DefaultMaxTweakLen
	case opts.MaxTweakLen < 0 || int64(opts.MaxTweakLen) > maxSpecLen:
		return nil, errorf(ErrInvalidParams, "MaxTweakLen %d is outside [1, 2^32-1]", opts.MaxTweakLen)
	default:
		c.maxTweakLen = opts.MaxTweakLen
	}

	r := uint64(radix)
	c.pow[0] = 1
	for c.fastMax+1 < len(c.pow) {
		hi, lo := bits.Mul64(c.pow[c.fastMax], r)
		if hi != 0 {
			break
		}
		c.fastMax++
		c.pow[c.fastMax] = lo
	}
	c.chunk = c.pow[c.fastMax]
	return c, nil
}

// MinLen returns the shortest input FF1 accepts for radix: the smallest
// length n ≥ 2 with radix^n ≥ MinDomainSize (6 for radix 10, 4 for radix 36
// and 62, 20 for radix 2). It returns 0 for a radix outside [2, 2^16].
func MinLen(radix int) int {
	if radix < MinRadix || radix > MaxRadix {
		return 0
	}
	n, d := 1, int64(radix)
	for d < MinDomainSize || n < 2 {
		n++
		d *= int64(radix) // d < 10^6 before, radix ≤ 2^16: no overflow
	}
	return n
}

// DefaultMaxLen returns the longest input accepted for radix when
// Options.MaxLen is zero: 2·⌊log_radix(2^96)⌋ numerals (56 for radix 10, 36
// for radix 36, 32 for radix 62, 192 for radix 2). This is piiguard's
// choice, not FF1's: SP 800-38G lets FF1 go up to 2^32−1 numerals, and this
// bound is the one it sets for FF3-1. It covers every PII field this SDK
// formats (card numbers, national IDs, phone numbers) while bounding the
// cost of a call; Options.MaxLen changes it. It returns 0 for a radix
// outside [2, 2^16].
func DefaultMaxLen(radix int) int {
	if radix < MinRadix || radix > MaxRadix {
		return 0
	}
	limit := new(big.Int).Lsh(big.NewInt(1), 96)
	p, r := big.NewInt(1), big.NewInt(int64(radix))
	k := 0
	for {
		p.Mul(p, r)
		if p.Cmp(limit) > 0 {
			return 2 * k
		}
		k++
	}
}

// Radix returns the cipher's radix.
func (c *Cipher) Radix() int { return c.radix }

// MinLen returns the shortest input the cipher accepts, in numerals.
func (c *Cipher) MinLen() int { return c.minLen }

// MaxLen returns the longest input the cipher accepts, in numerals.
func (c *Cipher) MaxLen() int { return c.maxLen }

// MaxTweakLen returns the longest tweak the cipher accepts, in bytes.
func (c *Cipher) MaxTweakLen() int { return c.maxTweakLen }

// Encrypt returns the FF1 encryption of the numeral string x under tweak.
// Each numeral must be below the radix; the result has the same length and
// radix. x is not modified. The same x, tweak and key always give the same
// result: FF1 is deterministic. The tweak may be nil or empty.
//
// Errors: ErrDomainTooSmall when radix^len(x) < 1,000,000; ErrInvalidInput
// (as an *InputError) for a numeral not below the radix, and for an input
// or tweak longer than the cipher's maximum.
func (c *Cipher) Encrypt(x []uint16, tweak []byte) ([]uint16, error) {
	return c.crypt(x, tweak, false)
}

// Decrypt returns the FF1 decryption of the numeral string y under tweak: the
// x for which Encrypt(x, tweak) returns y. Its inputs and errors are those of
// Encrypt. FF1 is a permutation without authentication: every numeral string
// of a valid length decrypts, so a wrong key or tweak gives a wrong result,
// not an error.
func (c *Cipher) Decrypt(y []uint16, tweak []byte) ([]uint16, error) {
	return c.crypt(y, tweak, true)
}

// EncryptString encrypts s, written in alphabet a, under tweak and returns
// the result in the same alphabet and of the same length in characters. a
// must have exactly Radix() characters. Errors are those of Encrypt; the
// position in an *InputError is a character (rune) index into s.
func (c *Cipher) EncryptString(a *Alphabet, s string, tweak []byte) (string, error) {
	return c.cryptString(a, s, tweak, false)
}

// DecryptString is the inverse of EncryptString.
func (c *Cipher) DecryptString(a *Alphabet, s string, tweak []byte) (string, error) {
	return c.cryptString(a, s, tweak, true)
}

func (c *Cipher) cryptString(a *Alphabet, s string, tweak []byte, decrypt bool) (string, error) {
	if a == nil || a.Radix() != c.radix {
		size := 0
		if a != nil {
			size = a.Radix()
		}
		return "", errorf(ErrInvalidParams, "alphabet has %d characters, cipher radix is %d", size, c.radix)
	}
	x, err := a.decode(s)
	if err != nil {
		return "", err
	}
	y, err := c.crypt(x, tweak, decrypt)
	if err != nil {
		return "", err
	}
	return a.encode(y), nil
}

// check validates the lengths of an input and its tweak.
func (c *Cipher) check(n, t int) error {
	switch {
	case n < c.minLen:
		return errorf(ErrDomainTooSmall, "length %d is below the minimum %d for radix %d (radix^length must be at least %d)", n, c.minLen, c.radix, MinDomainSize)
	case n > c.maxLen:
		return errorf(ErrInvalidInput, "length %d exceeds the maximum %d for radix %d", n, c.maxLen, c.radix)
	case t > c.maxTweakLen:
		return errorf(ErrInvalidInput, "tweak is %d bytes, the maximum is %d", t, c.maxTweakLen)
	}
	return nil
}

func (c *Cipher) crypt(x []uint16, tweak []byte, decrypt bool) ([]uint16, error) {
	if err := c.check(len(x), len(tweak)); err != nil {
		return nil, err
	}
	r := uint16(c.radix - 1) // radix ≤ 2^16: the largest numeral fits
	for i, d := range x {
		if d > r {
			return nil, &InputError{Index: i}
		}
	}
	out := make([]uint16, len(x))
	if v := len(x) - len(x)/2; v <= c.fastMax {
		c.cryptFast(out, x, tweak, decrypt)
	} else {
		c.cryptBig(out, x, tweak, decrypt)
	}
	return out, nil
}

// String returns a description that names the radix and nothing secret.
func (c *Cipher) String() string {
	if c == nil {
		return "ff1.Cipher(nil)"
	}
	return "ff1.Cipher{radix: " + strconv.Itoa(c.radix) + ", key: REDACTED}"
}

// GoString is String: %#v does not print the key schedule.
func (c *Cipher) GoString() string { return c.String() }

// Format writes String for every verb, so that no verb (%x, %d, %+v…) prints
// the key schedule.
func (c *Cipher) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer: log/slog records String.
func (c *Cipher) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes String as a JSON string, so that encoding/json does
// not serialise the key schedule.
func (c *Cipher) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(c.String())), nil }
