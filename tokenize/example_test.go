package tokenize_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/tokenize"
	"github.com/piiguard/piiguard/tokenize/sqlvault"
)

// exampleKeyring returns a key ring with the default keysets of package
// tokenize. It keeps its keys in memory under a random root key: use a real
// backend (kms.URLMux) and store in production.
func exampleKeyring() *kms.Keyring {
	ctx := context.Background()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for name, p := range map[string]kms.Purpose{
		tokenize.DefaultHMACKeyset:       kms.PurposePRF,
		tokenize.DefaultSIVKeyset:        kms.PurposeDeterministicAEAD,
		tokenize.DefaultFPEKeyset:        kms.PurposePRF,
		tokenize.DefaultVaultKeyset:      kms.PurposeAEAD,
		tokenize.DefaultVaultIndexKeyset: kms.PurposePRF,
	} {
		if err := kms.NewAdmin(kr).Ensure(ctx, name, p); err != nil {
			log.Fatal(err)
		}
	}
	return kr
}

// HMAC tokens: deterministic and irreversible, for joins and counting
// distinct customers without holding their e-mail addresses.
func ExampleHMAC() {
	ctx := context.Background()
	h, err := tokenize.NewHMAC(exampleKeyring(), tokenize.HMACOptions{
		Kinds: map[string]string{"crm": "email", "analytics": "email"},
	})
	if err != nil {
		log.Fatal(err)
	}
	a, _ := h.Tokenize(ctx, "crm", "Lucy@Example.com")
	b, _ := h.Tokenize(ctx, "crm", " lucy@example.com")
	c, _ := h.Tokenize(ctx, "analytics", "lucy@example.com")
	fmt.Println("prefix:", a[:4], "length:", len(a))
	fmt.Println("same value, same domain:", a == b)
	fmt.Println("same value, other domain:", a == c)
	fmt.Println("recognised:", h.IsToken("crm", a))
	_, err = h.Detokenize(ctx, "crm", a)
	fmt.Println(errors.Is(err, tokenize.ErrIrreversible))
	// Output:
	// prefix: th1_ length: 44
	// same value, same domain: true
	// same value, other domain: false
	// recognised: true
	// true
}

// HMAC.LookupTokens finds rows tokenized before a key rotation.
func ExampleHMAC_LookupTokens() {
	ctx := context.Background()
	kr := exampleKeyring()
	h, _ := tokenize.NewHMAC(kr, tokenize.HMACOptions{})
	before, _ := h.Tokenize(ctx, "email", "lucy@example.com")
	if _, err := kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultHMACKeyset); err != nil {
		log.Fatal(err)
	}
	terms, _ := h.LookupTokens(ctx, "email", "lucy@example.com")
	fmt.Println(len(terms), terms[1] == before) // SELECT … WHERE email_token IN (terms…)
	// Output: 2 true
}

// SIV tokens: deterministic and reversible, bound to their domain.
func ExampleSIV() {
	ctx := context.Background()
	s, err := tokenize.NewSIV(exampleKeyring(), tokenize.SIVOptions{
		Authorize: func(ctx context.Context, domain string) error {
			return nil // ask your access control here
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := s.Tokenize(ctx, "email", "Lucy@Example.com")
	again, _ := s.Tokenize(ctx, "email", "lucy@example.com")
	fmt.Println(tok[:4], tok == again)
	v, _ := s.Detokenize(ctx, "email", tok)
	fmt.Println(v)
	_, err = s.Detokenize(ctx, "contact", tok)
	fmt.Println(errors.Is(err, tokenize.ErrWrongDomain))
	// Output:
	// ts1_ true
	// lucy@example.com
	// true
}

// Format-preserving card tokens keep the issuer and the last four digits.
// Marked tokens fail the Luhn check, so that they can be told from cards.
func ExampleFPE_card() {
	ctx := context.Background()
	f, err := tokenize.NewFPE(exampleKeyring(), map[string]tokenize.Format{
		"card":     tokenize.Card(tokenize.CardOptions{Marked: true}),
		"card-raw": tokenize.Card(tokenize.CardOptions{}),
	}, tokenize.FPEOptions{Authorize: tokenize.AllowAll})
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := f.Tokenize(ctx, "card", "4111 1111 1111 1111")
	fmt.Println(len(tok), tok[:6], tok[12:], luhnValid(tok), f.IsToken("card", tok))
	raw, _ := f.Tokenize(ctx, "card-raw", "4111 1111 1111 1111")
	fmt.Println(len(raw), raw[:6], raw[12:], luhnValid(raw), f.IsToken("card-raw", raw))
	v, _ := f.Detokenize(ctx, "card", tok)
	fmt.Println(v)
	_, err = f.Tokenize(ctx, "card", "378282246310005") // 15 digits: 5 left to encrypt
	fmt.Println(errors.Is(err, tokenize.ErrTooShort))
	_, err = f.Tokenize(ctx, "card", "4111111111111112")
	fmt.Println(err)
	// Output:
	// 16 411111 1111 false true
	// 16 411111 1111 true false
	// 4111111111111111
	// true
	// tokenize: fpe tokenize domain "card": check digit mismatch: the card number fails the Luhn check
}

// Format-preserving phone numbers keep their country code; resident ID
// numbers keep their form and a valid check character.
func ExampleFPE_phoneAndResidentID() {
	ctx := context.Background()
	f, err := tokenize.NewFPE(exampleKeyring(), map[string]tokenize.Format{
		"phone": tokenize.Phone(),
		"cnid":  tokenize.ChineseResidentID(tokenize.IDOptions{}),
		"ref":   tokenize.Base62().Keep(2, 0),
	}, tokenize.FPEOptions{Authorize: tokenize.AllowAll, DefaultCountryCode: "44"})
	if err != nil {
		log.Fatal(err)
	}
	p, _ := f.Tokenize(ctx, "phone", "020 7946 0800")
	back, _ := f.Detokenize(ctx, "phone", p)
	fmt.Println(len(p), p[:3], back)
	id, _ := f.Tokenize(ctx, "cnid", "11010519491231002X")
	fmt.Println(len(id), id != "11010519491231002X")
	ref, _ := f.Tokenize(ctx, "ref", "INv0ice42Zq")
	fmt.Println(len(ref), ref[:2])
	// Output:
	// 13 +44 +442079460800
	// 18 true
	// 11 IN
}

// Vaulted tokens are random; the value is kept encrypted in a token store,
// here an SQLite file of package tokenize/sqlvault.
func ExampleVault() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)
	store, err := sqlvault.OpenSQLite(filepath.Join(dir, "tokens.db"), sqlvault.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	v, err := tokenize.NewVault(exampleKeyring(), store, tokenize.VaultOptions{Authorize: tokenize.AllowAll})
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := v.TokenizeWith(ctx, "email", "lucy@example.com", tokenize.EntryOptions{
		TTL:      24 * time.Hour,
		Metadata: map[string]string{"source": "signup"},
	})
	again, _ := v.Tokenize(ctx, "email", "Lucy@Example.com")
	fmt.Println(strings.HasPrefix(tok, "tv1_"), tok == again)
	e, _ := v.Lookup(ctx, "email", tok)
	fmt.Println(e.Reveal(), e.Metadata["source"], !e.Expires.IsZero())
	fmt.Println(strings.Contains(fmt.Sprint(e), "lucy")) // an Entry never prints its value
	if err := v.Delete(ctx, "email", tok); err != nil {
		log.Fatal(err)
	}
	_, err = v.Detokenize(ctx, "email", tok)
	fmt.Println(errors.Is(err, tokenize.ErrUnknownToken))
	// Output:
	// true true
	// lucy@example.com signup true
	// false
	// true
}

// KeyVersion reads which key version made an HMAC or SIV token.
func ExampleKeyVersion() {
	id, ok := tokenize.KeyVersion("th1_1e2e7ea8_i3tg_bzktg4piql6nu4ay65d43jyzta")
	fmt.Println(id, ok)
	_, ok = tokenize.KeyVersion("4111111111111111")
	fmt.Println(ok)
	// Output:
	// 506363560 true
	// false
}

// Normalize is the canonical form tokens are made from.
func ExampleNormalize() {
	fmt.Println(tokenize.Normalize("email", " Lucy@Example.COM ", ""))
	fmt.Println(tokenize.Normalize("phone", "020 7946 0800", "44"))
	fmt.Println(tokenize.Normalize("card", "4111-1111 1111-1111", ""))
	fmt.Println(tokenize.Normalize("exact", " As Is ", ""))
	// Output:
	// lucy@example.com
	// +442079460800
	// 4111111111111111
	//  As Is
}

// luhnValid reports whether a string of digits passes the Luhn check.
func luhnValid(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
