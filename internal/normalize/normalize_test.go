package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestEmailTrimsAndLowercases(t *testing.T) {
	assert.Equal(t, "lucy.w@example.com", Email("  Lucy.W@Example.COM\t"))
	assert.Equal(t, "élodie@exemple.fr", Email("Élodie@Exemple.fr"))
	assert.Equal(t, "", Email("   "))
}

func TestPhoneToE164(t *testing.T) {
	for _, tc := range []struct{ in, cc, want string }{
		{"+44 20 7946 0800", "", "+442079460800"},
		{"+44 (0)20 7946 0800", "", "+4402079460800"}, // written wrongly: kept as given
		{"0044 20 7946 0800", "", "+442079460800"},
		{"020 7946 0800", "44", "+442079460800"},
		{"020-7946-0800", "+44", "+442079460800"},
		{"(415) 555-0100", "1", "+14155550100"},
		{"1 415 555 0100", "1", "+14155550100"},
		{"011 44 20 7946 0800", "1", "+442079460800"},
		{"020 7946 0800", "", "02079460800"},
		{"+1 415 555 0100 ext. 12", "", "+14155550100"},
		{"+1 415 555 0100 x12", "", "+14155550100"},
		{"+1 415 555 0100 #12", "", "+14155550100"},
		{"call me", "44", ""},
		{"", "44", ""},
	} {
		assert.Equal(t, tc.want, Phone(tc.in, tc.cc), "Phone(%q, %q)", tc.in, tc.cc)
	}
}

func TestDigitsKeepsOnlyDigits(t *testing.T) {
	assert.Equal(t, "4111111111111111", Digits("4111 1111-1111 1111"))
	assert.Equal(t, "4111", Digits("4111"))
	assert.Equal(t, "", Digits("card"))
}

func TestFoldCollapsesWhitespaceAndCase(t *testing.T) {
	assert.Equal(t, "lucy westenra", Fold("  Lucy \t WESTENRA\n"))
	assert.Equal(t, "lucy westenra", Fold("lucy westenra"))
	assert.Equal(t, "zoë ünal", Fold("Zoë\u00a0 Ünal"))
	assert.Equal(t, "", Fold(" \t "))
	assert.Equal(t, "", Fold(""))
	assert.Equal(t, "a b", Fold("a b "))
}

func TestAlnumUppercasesAndDropsSeparators(t *testing.T) {
	assert.Equal(t, "GB82WEST12345698", Alnum("gb82 west-1234.5698"))
	assert.Equal(t, "11010519491231002X", Alnum("110105 19491231 002x"))
}

func TestIPCanonicalForm(t *testing.T) {
	assert.Equal(t, "2001:db8::1", IP(" 2001:DB8::0:1 "))
	assert.Equal(t, "192.0.2.1", IP("::ffff:192.0.2.1"))
	assert.Equal(t, "not an ip", IP("Not  an IP"))
}

// TestLowerASCIIMatchesByteByByte checks the word-at-a-time scan of Email's
// fast path against the obvious loop: every byte value at every position
// of strings long enough to span two words and a tail.
func TestLowerASCIIMatchesByteByByte(t *testing.T) {
	slow := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
				return false
			}
		}
		return true
	}
	base := []byte("lucy.westenra@example.com") // 25 bytes: 3 words + 1
	for pos := range base {
		for v := range 256 {
			b := append([]byte(nil), base...)
			b[pos] = byte(v)
			s := string(b)
			if got, want := lowerASCII(s), slow(s); got != want {
				t.Fatalf("byte %#x at %d: lowerASCII %v, want %v", v, pos, got, want)
			}
			if got, want := lowerASCII(s[pos:]), slow(s[pos:]); got != want {
				t.Fatalf("byte %#x first of %d: lowerASCII %v, want %v", v, len(s)-pos, got, want)
			}
		}
	}
	assert.True(t, lowerASCII(""))
	assert.Equal(t, "lucy.westenra@example.com", Email("lucy.westenra@example.com"))
	assert.Equal(t, "lucy.westenra@example.com", Email("lucy.westenra@examplE.com"))
	assert.Equal(t, "lucy.westenra@example.com[", Email("Lucy.westenra@example.com["))
}

// FuzzNormalizers checks that every normalizer is total (no panic), returns
// valid UTF-8 for valid UTF-8 input, and is idempotent: normalising a
// normalised value changes nothing, so an index computed from a stored
// normal form matches one computed from the raw input.
func FuzzNormalizers(f *testing.F) {
	for _, s := range []string{"", " Lucy@Example.com ", "+44 20 7946 0800", "020 7946 0800 x12", "4111-1111", "Zoë\u00a0Ünal", "::ffff:1.2.3.4", "\xff\xfe", "ǅ ǈ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Email(s), strings.ToLower(strings.TrimSpace(s)); got != want {
			t.Fatalf("Email(%q) = %q, want %q", s, got, want)
		}
		for name, fn := range map[string]func(string) string{
			"Email":   Email,
			"Phone44": func(s string) string { return Phone(s, "44") },
			"Phone1":  func(s string) string { return Phone(s, "1") },
			"Phone":   func(s string) string { return Phone(s, "") },
			"Digits":  Digits,
			"Fold":    Fold,
			"Alnum":   Alnum,
			"IP":      IP,
		} {
			once := fn(s)
			if utf8.ValidString(s) && !utf8.ValidString(once) {
				t.Fatalf("%s: invalid UTF-8 output", name)
			}
			if name == "Phone" || name == "Email" || name == "Fold" || name == "Alnum" {
				// Case mappings are not always idempotent on arbitrary
				// Unicode (e.g. some title-case letters); check ASCII only.
				if !isASCII(s) {
					continue
				}
			}
			if twice := fn(once); twice != once {
				t.Fatalf("%s not idempotent: %q -> %q -> %q", name, s, once, twice)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func TestApplyAndBound(t *testing.T) {
	for kind, c := range map[string]struct{ in, want string }{
		"email":        {" Lucy@Example.com ", "lucy@example.com"},
		"phone":        {"020 7946 0800", "+442079460800"},
		"card":         {"41-11", "4111"},
		"national_id":  {"ab 12", "AB12"},
		"bank_account": {"ab-12", "AB12"},
		"postcode":     {"ab 12", "AB12"},
		"ip":           {"::ffff:10.0.0.1", IP("::ffff:10.0.0.1")},
		"name":         {" Lucy  Westenra", "lucy westenra"},
		"address":      {"1  High St", Fold("1  High St")},
		"street":       {"High  St", Fold("High  St")},
		"city":         {"LONDON", "london"},
		"dob":          {" 1990-01-02 ", "1990-01-02"},
		"text":         {"A  b", "a b"},
	} {
		assert.True(t, Known(kind), kind)
		got, ok := Apply(kind, c.in, "44")
		assert.True(t, ok, kind)
		assert.Equal(t, c.want, got, kind)
		if f := Bound(kind, "44"); assert.NotNil(t, f, kind) {
			assert.Equal(t, c.want, f(c.in), "Bound agrees with Apply for %s", kind)
		}
	}
	for _, kind := range []string{"exact", "Email", ""} {
		assert.False(t, Known(kind), kind)
		got, ok := Apply(kind, " X ", "44")
		assert.False(t, ok)
		assert.Equal(t, " X ", got, "an unknown kind leaves the value as it is")
		assert.Nil(t, Bound(kind, "44"))
	}
}
