package tokenize

import (
	"slices"
	"strings"
	"testing"

	"github.com/piiguard/piiguard/internal/luhn"
	"github.com/piiguard/piiguard/internal/phone"
)

// FuzzTokenParsers feeds arbitrary strings to every token parser: none may
// panic, a string one accepts must re-encode to itself (each token has one
// spelling), and no error may echo the input.
func FuzzTokenParsers(f *testing.F) {
	keys := loadFixedKeys(f)
	h, _ := NewHMAC(keys, HMACOptions{})
	s, _ := NewSIV(keys, allowAll(SIVOptions{}))
	fp, _ := NewFPE(keys, testFormats, allowAll(FPEOptions{}))
	for _, g := range []string{"th1_1e2e7ea8_i3tg_bzktg4piql6nu4ay65d43jyzta", "ts1_ca803791_cfji_ck5g24wz3oopg66nks2w7ld6dhoa",
		"tv1_i3tg_za53qekeyn4uhjcxy57c7frbma", "4111114764161111", "+442457146454", "590555152189644992", "", "th1_", "tv1_aaaa_\n"} {
		f.Add(g, "email")
		f.Add(g, "card")
	}
	domains := slices.Sorted(func(yield func(string) bool) {
		for d := range testFormats {
			if !yield(d) {
				return
			}
		}
	})
	f.Fuzz(func(t *testing.T, tok, domain string) {
		if p, err := parseHMAC(tok); err == nil {
			re := hmacPrefix + string(appendKeyID(nil, p.keyID)) + "_" + p.tag + "_" + b32.EncodeToString(p.payload)
			if re != tok {
				t.Fatalf("HMAC token %q re-encodes to %q", tok, re)
			}
			if id, ok := KeyVersion(tok); !ok || id != p.keyID {
				t.Fatal("KeyVersion disagrees with the parser")
			}
		}
		if p, err := parseSIV(tok); err == nil {
			re := sivPrefix + string(appendKeyID(nil, p.keyID)) + "_" + p.tag + "_" + b32.EncodeToString(p.payload)
			if re != tok {
				t.Fatalf("SIV token %q re-encodes to %q", tok, re)
			}
		}
		if b, ok := decodeB32(tok); ok && b32.EncodeToString(b) != tok {
			t.Fatalf("base32 %q is not canonical", tok)
		}
		v := &Vault{}
		_ = v.checkToken("email", tok)
		_ = h.IsToken(domain, tok)
		_ = s.IsToken(domain, tok)
		_ = v.IsToken(domain, tok)
		if _, err := s.Detokenize(ctx, "email", tok); err != nil && len(tok) >= 8 && strings.Contains(err.Error(), tok) {
			t.Fatal("an error echoes the token")
		}
		for _, d := range domains {
			_ = fp.IsToken(d, tok)
			if _, err := fp.Detokenize(ctx, d, tok); err != nil && len(tok) >= 8 && strings.Contains(err.Error(), tok) {
				t.Fatal("an error echoes the token")
			}
		}
	})
}

// FuzzFPERoundTrip tokenizes arbitrary values in every FPE domain through
// the public API: whatever is accepted must keep its shape and detokenize
// to its canonical form, and errors must not echo the value.
func FuzzFPERoundTrip(f *testing.F) {
	keys := loadFixedKeys(f)
	fp, err := NewFPE(keys, testFormats, allowAll(FPEOptions{DefaultCountryCode: "44"}))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"4111111111111111", "378282246310005", "+44 20 7946 0800", "11010519491231002X", "123456", "abcd", "AbC9xyz", "12345678901234", "0000000000000000000"} {
		f.Add(seed)
	}
	domains := []string{"digits", "account", "ref36", "ref62", "card", "pan", "amex", "phone", "national_id", "cnid"}
	f.Fuzz(func(t *testing.T, value string) {
		for _, d := range domains {
			tok, err := fp.Tokenize(ctx, d, value)
			if err != nil {
				if len(value) >= 6 && strings.Contains(err.Error(), value) {
					t.Fatalf("%s: the error echoes the value", d)
				}
				continue
			}
			back, err := fp.Detokenize(ctx, d, tok)
			if err != nil {
				t.Fatalf("%s: token of an accepted value does not detokenize: %v", d, err)
			}
			switch d {
			case "card", "pan", "amex":
				digits := strings.NewReplacer(" ", "", "-", "").Replace(value)
				if back != digits || len(tok) != len(digits) || tok[:4] != digits[:4] || tok[len(tok)-4:] != digits[len(digits)-4:] {
					t.Fatalf("%s: card round trip broke its shape", d)
				}
				if (d == "card") == luhn.Valid(tok) {
					t.Fatalf("%s: Luhn validity of the token is wrong", d)
				}
				if d == "card" && !fp.IsToken(d, tok) {
					t.Fatal("a marked card token is not recognised")
				}
			case "phone":
				cc := 1 + phone.CountryCodeLen(back[1:])
				if len(tok) != len(back) || tok[:cc] != back[:cc] {
					t.Fatal("phone token lost its shape")
				}
			case "national_id", "cnid":
				if len(tok) != 18 || (d == "cnid") != luhn.ValidGB11643(tok) {
					t.Fatal("resident ID token lost its shape")
				}
			default:
				if back != value || len(tok) != len(value) {
					t.Fatalf("%s: round trip failed", d)
				}
			}
		}
	})
}
