package ff1

import (
	"strings"
	"unicode/utf8"
)

// Alphabet maps the characters of a string format to FF1 numerals: the i-th
// character of the alphabet is numeral i, so the alphabet's size is the
// radix. An Alphabet is immutable and safe for concurrent use.
type Alphabet struct {
	chars string
	runes []rune
	ascii [utf8.RuneSelf]int32 // numeral+1 of an ASCII character, 0 if absent
	other map[rune]uint16      // numerals of non-ASCII characters
	// allASCII is true when every character is ASCII, so that encoding
	// writes bytes.
	allASCII bool
}

const (
	digitChars  = "0123456789"
	base36Chars = "0123456789abcdefghijklmnopqrstuvwxyz"
	base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// The ready alphabets. They are never modified: Alphabet has no mutating
// method, and these are reached only through the functions below.
var (
	digits = mustAlphabet(digitChars)
	base36 = mustAlphabet(base36Chars)
	base62 = mustAlphabet(base62Chars)
)

// Digits returns the radix-10 alphabet "0123456789".
func Digits() *Alphabet { return digits }

// Base36 returns the radix-36 alphabet of digits and lower-case ASCII
// letters, "0123456789abcdefghijklmnopqrstuvwxyz" (the alphabet of the NIST
// radix-36 samples).
func Base36() *Alphabet { return base36 }

// Base62 returns the radix-62 alphabet of digits, upper-case then lower-case
// ASCII letters, "0-9A-Za-z".
func Base62() *Alphabet { return base62 }

// NewAlphabet returns the alphabet whose numerals are the characters (runes)
// of chars, in order. chars must be valid UTF-8 and hold between 2 and 65536
// distinct characters, none of them U+FFFD (the replacement character);
// otherwise the error wraps ErrInvalidParams.
func NewAlphabet(chars string) (*Alphabet, error) {
	if !utf8.ValidString(chars) {
		return nil, errorf(ErrInvalidParams, "alphabet is not valid UTF-8")
	}
	if strings.ContainsRune(chars, utf8.RuneError) {
		// U+FFFD is what ranging over a string yields for a byte that is not
		// UTF-8: allowing it would let malformed input decode.
		return nil, errorf(ErrInvalidParams, "alphabet contains U+FFFD")
	}
	runes := []rune(chars)
	if len(runes) < MinRadix || len(runes) > MaxRadix {
		return nil, errorf(ErrInvalidParams, "alphabet has %d characters, want between %d and %d", len(runes), MinRadix, MaxRadix)
	}
	a := &Alphabet{chars: chars, runes: runes, allASCII: true}
	for i, r := range runes {
		if r < utf8.RuneSelf {
			if a.ascii[r] != 0 {
				return nil, errorf(ErrInvalidParams, "alphabet repeats the character at index %d", i)
			}
			a.ascii[r] = int32(i) + 1
			continue
		}
		a.allASCII = false
		if a.other == nil {
			a.other = make(map[rune]uint16)
		}
		if _, dup := a.other[r]; dup {
			return nil, errorf(ErrInvalidParams, "alphabet repeats the character at index %d", i)
		}
		a.other[r] = uint16(i) // i < 65536
	}
	return a, nil
}

func mustAlphabet(chars string) *Alphabet {
	a, err := NewAlphabet(chars)
	if err != nil {
		panic(err)
	}
	return a
}

// Radix returns the number of characters in the alphabet.
func (a *Alphabet) Radix() int { return len(a.runes) }

// String returns the alphabet's characters in numeral order. An alphabet is
// a format, not a secret.
func (a *Alphabet) String() string { return a.chars }

// decode converts s to numerals. A character outside the alphabet (or a byte
// that is not UTF-8) is reported by its character index, never its value.
func (a *Alphabet) decode(s string) ([]uint16, error) {
	x := make([]uint16, 0, len(s))
	for _, r := range s {
		var d int32
		if r < utf8.RuneSelf {
			d = a.ascii[r] - 1
		} else if v, ok := a.other[r]; ok { // U+FFFD, which stands for bad UTF-8, is never in it
			d = int32(v)
		} else {
			d = -1
		}
		if d < 0 {
			return nil, &InputError{Index: len(x), Character: true}
		}
		x = append(x, uint16(d))
	}
	return x, nil
}

// encode converts numerals, each below the radix, to a string.
func (a *Alphabet) encode(x []uint16) string {
	var sb strings.Builder
	if a.allASCII {
		sb.Grow(len(x))
		for _, d := range x {
			sb.WriteByte(byte(a.runes[d]))
		}
		return sb.String()
	}
	sb.Grow(len(x) * utf8.UTFMax)
	for _, d := range x {
		sb.WriteRune(a.runes[d])
	}
	return sb.String()
}
