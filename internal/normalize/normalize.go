// Package normalize turns a value into the canonical form that is hashed
// into a blind index (package pii) or a deterministic token (package
// tokenize), so that values a person would call equal hash equally.
//
// Every function here is a pure, deterministic function of its input: its
// output is hashed into index values stored in databases, so changing what
// one returns for an input breaks every index built with it. The outputs are
// pinned by the golden tests of package pii; a change of rules needs a new
// index format version, not an edit here.
//
// The functions never fail and never panic: input that does not look like
// the kind of value expected is folded as best it can be (a phone number with
// no digits becomes ""), and callers decide what an empty result means.
package normalize

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email trims surrounding white space and lower-cases the address (Unicode
// simple case mapping), both the local part and the domain. It does not
// remove dots or "+tags": providers differ on whether those are significant.
func Email(s string) string {
	// Fast path: ASCII, no upper case, nothing to trim.
	if n := len(s); n > 0 && !isASCIISpace(s[0]) && !isASCIISpace(s[n-1]) && lowerASCII(s) {
		return s
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// lowerASCII reports whether s is all ASCII without an upper-case letter,
// looking at eight bytes at a time.
func lowerASCII(s string) bool {
	const (
		high = 0x8080808080808080
		// Added to a byte below 0x80, these set its high bit when it is at
		// least 'A', and at least 'Z'+1, without carrying into the next.
		fromA = 0x8080808080808080 - 0x0101010101010101*'A'
		pastZ = 0x8080808080808080 - 0x0101010101010101*('Z'+1)
	)
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if w&high != 0 || (w+fromA)&^(w+pastZ)&high != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Phone returns a phone number in E.164 form, "+" followed by the country
// code and the national number, when the country can be told:
//
//   - a number written with a leading "+" keeps its digits: "+44 20 7946 0800"
//     → "+442079460800";
//   - a number that starts with the international prefix "00" (or "011" when
//     defaultCountry is "1") has it replaced by "+";
//   - otherwise, when defaultCountry (a calling code such as "44" or "1") is
//     set, one national trunk "0" is dropped and the code prepended:
//     "020 7946 0800" with "44" → "+442079460800"; for "1" a leading trunk
//     "1" of an 11-digit number is dropped instead;
//   - otherwise the digits alone are returned, without "+".
//
// Everything but ASCII digits is ignored, and an extension written after
// "x", "ext" or "#" is cut off. A number with no digits returns "". Phone
// does not validate numbering plans: countries whose national numbers keep
// their leading 0 (Italy) should be stored with "+".
func Phone(s, defaultCountry string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "xX#"); i >= 0 { // "x", "ext", "#"
		s = s[:i]
	}
	plus := strings.HasPrefix(s, "+")
	d := Digits(s)
	switch {
	case plus:
		return e164(d)
	case strings.HasPrefix(d, "00"):
		return e164(d[2:])
	case defaultCountry == "1" && strings.HasPrefix(d, "011"):
		return e164(d[3:])
	}
	cc := Digits(defaultCountry)
	if cc == "" || d == "" {
		return d
	}
	if cc == "1" {
		if len(d) == 11 && d[0] == '1' {
			d = d[1:]
		}
	} else {
		d = strings.TrimPrefix(d, "0")
	}
	if d == "" {
		return ""
	}
	return "+" + cc + d
}

func e164(digits string) string {
	if digits == "" {
		return ""
	}
	return "+" + digits
}

// Digits keeps the ASCII digits of s and drops everything else: the form of
// card numbers ("4111 1111-1111 1111" → "4111111111111111").
func Digits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// Fold trims s, collapses every run of Unicode white space to one ASCII
// space, and lower-cases it: "  Lucy \t WESTENRA " → "lucy westenra". It is
// the form of names, addresses and free text.
func Fold(s string) string {
	// Fast path: already folded (ASCII, lower case, single spaces).
	clean := true
	prevSpace := true // a leading space is not clean
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || (c != ' ' && isASCIISpace(c)) || (c == ' ' && prevSpace) {
			clean = false
			break
		}
		prevSpace = c == ' '
	}
	if clean && !prevSpace {
		return s
	}
	if clean && s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, w := range strings.FieldsFunc(s, unicode.IsSpace) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(w))
	}
	return b.String()
}

// Alnum keeps the letters and digits of s, upper-cased, and drops
// separators: the form of national ID, passport and bank account numbers
// ("gb82 west-1234.5698" → "GB82WEST12345698").
func Alnum(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// IP returns the canonical text form of an IPv4 or IPv6 address (IPv4-mapped
// IPv6 addresses become IPv4; zones are kept): "2001:DB8::0:1" →
// "2001:db8::1". Input that is not an address is folded with Fold.
func IP(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return Fold(s)
	}
	return a.Unmap().String()
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// plainFor returns the normaliser of a kind of package pii (and tokenize)
// that needs no default country, and whether the kind is known at all:
// "phone" is known and has none. It is the one place that says which
// normaliser each kind uses, for pii's blind indexes and tokenize's tokens
// alike; a switch rather than a map, since blind indexes ask on every
// value.
func plainFor(kind string) (f func(string) string, known bool) {
	switch kind {
	case "email":
		return Email, true
	case "phone":
		return nil, true
	case "card":
		return Digits, true
	case "national_id", "bank_account", "postcode":
		return Alnum, true
	case "ip":
		return IP, true
	case "name", "address", "street", "city", "dob", "text":
		return Fold, true
	}
	return nil, false
}

// Known reports whether kind has a normaliser.
func Known(kind string) bool {
	_, known := plainFor(kind)
	return known
}

// Apply normalises value as a value of kind, with defaultCountry for phone
// numbers written without a country code. It reports false, and returns
// value unchanged, for a kind it does not know.
func Apply(kind, value, defaultCountry string) (string, bool) {
	if kind == "phone" {
		return Phone(value, defaultCountry), true
	}
	if f, _ := plainFor(kind); f != nil {
		return f(value), true
	}
	return value, false
}

// Bound returns the normaliser of kind as a function of the value alone
// (defaultCountry bound for phone numbers), or nil for a kind it does not
// know: for callers that resolve a kind once and normalise many values.
func Bound(kind, defaultCountry string) func(string) string {
	if kind == "phone" {
		return func(v string) string { return Phone(v, defaultCountry) }
	}
	f, _ := plainFor(kind)
	return f
}
