package tokenize

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/piiguard/piiguard/internal/luhn"
	"github.com/piiguard/piiguard/internal/normalize"
	"github.com/piiguard/piiguard/internal/phone"
	"github.com/piiguard/piiguard/tokenize/internal/ff1"
)

// formatKind is what a Format reads and writes.
type formatKind byte

// The format IDs are written into the FF1 tweak: never change one.
const (
	fmtNumeric formatKind = 'n'
	fmtBase36  formatKind = 'a'
	fmtBase62  formatKind = 'b'
	fmtCard    formatKind = 'c'
	fmtPhone   formatKind = 'p'
	fmtCNRID   formatKind = 'g'
)

// Format says how a format-preserving (FPE) tokenizer reads the values of a
// domain and writes their tokens: which characters are encrypted with FF1,
// which are kept, and which are recomputed. Build one with Numeric, Base36,
// Base62, Card, Phone or ChineseResidentID; the zero Format is invalid.
// Formats are values: copy them freely.
type Format struct {
	kind      formatKind
	keepFirst int
	keepLast  int
	marked    bool
	err       string // why the format is invalid, for NewFPE
}

// Numeric is the format of digit strings ("0"–"9", radix 10), encrypted
// whole (or but for Keep's characters). Any other character is an error.
// At least 6 digits are encrypted. Tokens are not recognisable
// (RecognizesTokens is false).
func Numeric() Format { return Format{kind: fmtNumeric} }

// Base36 is the format of strings of digits and lower-case ASCII letters
// (radix 36). Upper-case letters are outside the alphabet: lower-case
// values first if case does not matter. At least 4 characters are
// encrypted. Tokens are not recognisable.
func Base36() Format { return Format{kind: fmtBase36} }

// Base62 is the format of strings of digits and ASCII letters of both
// cases (radix 62). At least 4 characters are encrypted. Tokens are not
// recognisable.
func Base62() Format { return Format{kind: fmtBase62} }

// Keep returns f keeping the first and last characters of each value as
// they are and encrypting only those between (a Numeric, Base36 or Base62
// format only; other formats decide what they keep). The kept characters
// also enter the tweak, so equal middles with different kept parts give
// unrelated tokens.
func (f Format) Keep(first, last int) Format {
	switch f.kind {
	case fmtNumeric, fmtBase36, fmtBase62:
	default:
		f.err = "Keep applies to Numeric, Base36 and Base62 formats only"
		return f
	}
	if first < 0 || last < 0 || first > 64 || last > 64 {
		f.err = "Keep counts must be 0 to 64"
		return f
	}
	f.keepFirst, f.keepLast = first, last
	return f
}

// CardOptions configures the Card format.
type CardOptions struct {
	// KeepFirst is the number of leading digits kept: the issuer
	// identification number. Default 6; at most 8.
	KeepFirst int
	// Marked makes every token fail the Luhn check in a fixed way (its Luhn
	// sum is 1 mod 10), so that IsToken recognises tokens without a key and
	// Tokenize refuses to tokenize a token. Without it, tokens are valid
	// card numbers that nothing can tell from real ones. Use Marked for
	// in-place tokenization (package pii), and whenever the two kinds of
	// number may be mixed up.
	Marked bool
}

// Card is the format of payment card numbers (PANs): 12 to 19 digits that
// pass the Luhn check. Spaces and dashes are allowed and dropped; tokens
// are digits only. The first KeepFirst (default 6) and the last 4 digits —
// the issuer and the digits receipts print, check digit included — are
// kept; those between are encrypted with FF1 (the kept digits in the
// tweak) and cycle-walked until the whole number passes the Luhn check
// again. At least 6 digits must be encrypted, so with the defaults only
// 16- to 19-digit numbers are accepted: see the package documentation for
// why, and for what it costs in security.
func Card(o CardOptions) Format {
	f := Format{kind: fmtCard, keepFirst: o.KeepFirst, keepLast: 4, marked: o.Marked}
	if f.keepFirst == 0 {
		f.keepFirst = 6
	}
	if f.keepFirst < 1 || f.keepFirst > 8 {
		f.err = "CardOptions.KeepFirst must be 1 to 8"
	}
	return f
}

// Phone is the format of phone numbers. Values are normalised to E.164
// ("+442079460800"; FPEOptions.DefaultCountryCode applies to numbers written
// without a country code, and numbers whose country cannot be told are
// refused), digits, spaces and "+-()./" allowed. The country calling code is
// kept and the national number (at least 6 digits) encrypted; tokens are
// E.164 strings. Tokens are not recognisable.
func Phone() Format { return Format{kind: fmtPhone} }

// IDOptions configures the ChineseResidentID format.
type IDOptions struct {
	// Marked gives every token the check character that follows the right
	// one in GB 11643's sequence "10X98765432", so that IsToken recognises
	// tokens without a key. Without it, tokens carry a valid check
	// character.
	Marked bool
}

// ChineseResidentID is the format of resident identity numbers of the
// People's Republic of China (GB 11643-1999): 17 digits and a check
// character (a digit or 'X'; 'x' is accepted and upper-cased), which must be
// valid. The 17 digits are encrypted with FF1 — region code and birth date
// included, so tokens do not name a real region or date — and the check
// character recomputed.
func ChineseResidentID(o IDOptions) Format { return Format{kind: fmtCNRID, marked: o.Marked} }

// String describes the format.
func (f Format) String() string {
	var s string
	switch f.kind {
	case fmtNumeric:
		s = "numeric"
	case fmtBase36:
		s = "base36"
	case fmtBase62:
		s = "base62"
	case fmtCard:
		s = "card"
	case fmtPhone:
		return "phone"
	case fmtCNRID:
		s = "cn-resident-id"
		if f.marked {
			s += "(marked)"
		}
		return s
	default:
		return "invalid"
	}
	if f.keepFirst != 0 || f.keepLast != 0 {
		s += fmt.Sprintf("(keep %d+%d)", f.keepFirst, f.keepLast)
	}
	if f.marked {
		s += "(marked)"
	}
	return s
}

// validate reports why f cannot be used.
func (f Format) validate() error {
	if f.err != "" {
		return errf(ErrInvalidOptions, "%s", f.err)
	}
	if f.kind == 0 {
		return errf(ErrInvalidOptions, "the zero Format")
	}
	return nil
}

// recognizable reports whether tokens of f can be told from values.
func (f Format) recognizable() bool { return f.marked }

// alphabet returns the FF1 alphabet of the format.
func (f Format) alphabet() *ff1.Alphabet {
	switch f.kind {
	case fmtBase36:
		return ff1.Base36()
	case fmtBase62:
		return ff1.Base62()
	}
	return ff1.Digits()
}

// tweak builds the FF1 tweak: the domain, the format and the kept parts.
func tweak(domain string, f formatKind, kept ...string) []byte {
	n := len(domain) + 2
	for _, k := range kept {
		n += len(k) + 1
	}
	t := make([]byte, 0, n)
	t = append(t, domain...)
	t = append(t, 0, byte(f))
	for _, k := range kept {
		t = append(t, 0)
		t = append(t, k...)
	}
	return t
}

// numerals maps each ASCII byte to its numeral in the Numeric, Base36 and
// Base62 alphabets plus one (0: not in the alphabet). Built once from the
// ff1 alphabets, never modified.
var numerals = func() map[int]*[256]uint8 {
	m := map[int]*[256]uint8{}
	for _, a := range []*ff1.Alphabet{ff1.Digits(), ff1.Base36(), ff1.Base62()} {
		var t [256]uint8
		chars := a.String()
		for i := 0; i < len(chars); i++ {
			t[chars[i]] = uint8(i + 1)
		}
		m[a.Radix()] = &t
	}
	return m
}()

// maxLens is ff1.DefaultMaxLen of the three radixes, computed once (it uses
// math/big).
var maxLens = map[int]int{10: ff1.DefaultMaxLen(10), 36: ff1.DefaultMaxLen(36), 62: ff1.DefaultMaxLen(62)}

// checkAlphabet finds the first character of s outside a, by rune index.
// The alphabets are ASCII, so any other byte is outside.
func checkAlphabet(a *ff1.Alphabet, s string) error {
	t := numerals[a.Radix()]
	i := 0
	for _, r := range s {
		if r >= utf8.RuneSelf || t[r] == 0 {
			return errf(ErrInvalidCharacter, "the character at index %d is not in the %d-character alphabet", i, a.Radix())
		}
		i++
	}
	return nil
}

// cardDigits validates the characters of a card number and returns its
// digits.
func cardDigits(s string) (string, error) {
	i := 0
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == ' ' || r == '-') {
			return "", errf(ErrInvalidCharacter, "the character at index %d is not a digit, space or dash", i)
		}
		i++
	}
	return normalize.Digits(s), nil
}

// luhnResidue returns the Luhn sum of an all-digit number mod 10 (0 for a
// valid number).
func luhnResidue(d string) int {
	c0, err := luhn.CheckDigit(d[:len(d)-1])
	if err != nil {
		return -1
	}
	return (int(d[len(d)-1]) - int(c0) + 10) % 10
}

// luhnContribution returns the Luhn sum, mod 10, of the numerals x placed
// so that the last of them is at position pos from the right of the whole
// number (the check digit being at position 0).
func luhnContribution(x []uint16, pos int) int {
	sum := 0
	for i := len(x) - 1; i >= 0; i, pos = i-1, pos+1 {
		d := int(x[i])
		if pos%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum % 10
}

// phoneChars are the characters a phone number may hold besides digits.
const phoneChars = " +-()./"

// phoneDigits validates the characters of a phone number and returns it in
// E.164 without the "+", with the length of its country code.
func phoneDigits(s, defaultCountry string) (string, int, error) {
	i := 0
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r < utf8.RuneSelf && strings.IndexByte(phoneChars, byte(r)) >= 0) {
			return "", 0, errf(ErrInvalidCharacter, "the character at index %d is not a digit or one of %q", i, phoneChars)
		}
		i++
	}
	e := normalize.Phone(s, defaultCountry)
	if !strings.HasPrefix(e, "+") {
		return "", 0, errf(ErrInvalidValue, "the phone number has no country code (write it with \"+\", or set DefaultCountryCode)")
	}
	d := e[1:]
	if len(d) > 15 {
		return "", 0, errf(ErrInvalidValue, "the phone number has %d digits, more than E.164's 15", len(d))
	}
	cc := phone.CountryCodeLen(d)
	if len(d) <= cc {
		return "", 0, errf(ErrTooShort, "the phone number has no national number")
	}
	return d, cc, nil
}

// gbChecks is GB 11643's check character sequence; a marked token carries
// the character after the right one (cyclically).
const gbChecks = "10X98765432"

// nextGBCheck returns the check character after c in gbChecks.
func nextGBCheck(c byte) byte {
	i := strings.IndexByte(gbChecks, c)
	return gbChecks[(i+1)%len(gbChecks)]
}

// gbValue validates and normalises a resident ID number: trimmed, 'x'
// upper-cased, 17 digits and a valid check character.
func gbValue(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "x") {
		s = s[:len(s)-1] + "X"
	}
	i := 0
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == 'X' && i == luhn.GB11643Len-1) {
			return "", errf(ErrInvalidCharacter, "the character at index %d is not a digit (or a final 'X')", i)
		}
		i++
	}
	if len(s) != luhn.GB11643Len {
		return "", errf(ErrInvalidValue, "a resident ID number has %d characters, not %d", luhn.GB11643Len, len(s))
	}
	if !luhn.ValidGB11643(s) {
		return "", errf(ErrCheckDigit, "the GB 11643 check character does not match")
	}
	return s, nil
}
