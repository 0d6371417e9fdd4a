package tokenize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/internal/luhn"
	"github.com/piiguard/piiguard/internal/phone"
	"github.com/piiguard/piiguard/kms"
)

// testFormats are the formats the FPE tests use, by domain.
var testFormats = map[string]Format{
	"digits":      Numeric(),
	"account":     Numeric().Keep(2, 2),
	"ref36":       Base36(),
	"ref62":       Base62(),
	"card":        Card(CardOptions{Marked: true}),
	"pan":         Card(CardOptions{}),
	"amex":        Card(CardOptions{KeepFirst: 4}),
	"phone":       Phone(),
	"national_id": ChineseResidentID(IDOptions{Marked: true}),
	"cnid":        ChineseResidentID(IDOptions{}),
}

func newTestFPE(t testing.TB, opts FPEOptions) *FPE {
	t.Helper()
	f, err := NewFPE(loadFixedKeys(t), testFormats, allowAll(opts))
	require.NoError(t, err)
	return f
}

// randPAN returns a Luhn-valid card number of n digits starting with bin.
func randPAN(rng *rand.Rand, bin string, n int) string {
	var b strings.Builder
	b.WriteString(bin)
	for b.Len() < n-1 {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	c, _ := luhn.CheckDigit(b.String())
	b.WriteByte(c)
	return b.String()
}

func TestFPEGenericFormatsRoundTrip(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	cases := []struct{ domain, value, alphabet string }{
		{"digits", "123456", "0123456789"},
		{"digits", "00000000000000000000000000000000000000000000000000000000", "0123456789"},
		{"account", "12345678901234", "0123456789"},
		{"ref36", "abcd", "0123456789abcdefghijklmnopqrstuvwxyz"},
		{"ref36", "order0042xyz", "0123456789abcdefghijklmnopqrstuvwxyz"},
		{"ref62", "AbC9", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
		{"ref62", "Xy7QwErTy0", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
	}
	for _, c := range cases {
		tok, err := f.Tokenize(ctx, c.domain, c.value)
		require.NoError(t, err, c.domain)
		assert.Len(t, tok, len(c.value))
		assert.NotEqual(t, c.value, tok)
		for _, r := range tok {
			assert.Contains(t, c.alphabet, string(r))
		}
		back, err := f.Detokenize(ctx, c.domain, tok)
		require.NoError(t, err)
		assert.Equal(t, c.value, back)
		assert.False(t, f.IsToken(c.domain, tok), "unmarked formats cannot recognise tokens")
		assert.False(t, f.RecognizesTokens(c.domain))
	}
	tok, err := f.Tokenize(ctx, "account", "12345678901234")
	require.NoError(t, err)
	assert.Equal(t, "12", tok[:2])
	assert.Equal(t, "34", tok[12:])

	a, _ := f.Tokenize(ctx, "digits", "123456")
	b, _ := f.Tokenize(ctx, "account", "0012345600")
	assert.NotEqual(t, a, b[2:8], "the tweak separates domains")
}

func TestFPEGenericFormatErrors(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	cases := []struct {
		domain, value string
		want          error
	}{
		{"digits", "12345", ErrTooShort},
		{"digits", "12a456", ErrInvalidCharacter},
		{"digits", "123 456", ErrInvalidCharacter},
		{"digits", strings.Repeat("1", 57), ErrInvalidValue},
		{"account", "123456789", ErrTooShort},
		{"account", "1", ErrTooShort},
		{"ref36", "ABCD", ErrInvalidCharacter},
		{"ref36", "abc", ErrTooShort},
		{"ref62", "ab-cd", ErrInvalidCharacter},
		{"ref62", "a\xffcd", ErrInvalidCharacter},
		{"nope", "123456", ErrInvalidDomain},
		{"bad domain", "123456", ErrInvalidDomain},
		{"digits", strings.Repeat("1", MaxValueSize+1), ErrInvalidValue},
	}
	for _, c := range cases {
		_, err := f.Tokenize(ctx, c.domain, c.value)
		assert.ErrorIs(t, err, c.want, "%s %q", c.domain, c.value)
	}
	_, err := f.Tokenize(ctx, "digits", "12a456")
	assert.ErrorContains(t, err, "index 2")
	_, err = f.Detokenize(ctx, "ref36", "ABCD")
	assert.ErrorIs(t, err, ErrMalformedToken)
}

func TestFPECardKeepsIssuerAndLastFourAndLuhn(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 16; n <= 19; n++ {
		for range 200 {
			pan := randPAN(rng, "411111", n)
			for _, domain := range []string{"pan", "card"} {
				tok, err := f.Tokenize(ctx, domain, pan)
				require.NoError(t, err)
				require.Len(t, tok, n)
				assert.Equal(t, pan[:6], tok[:6], "the issuer is kept")
				assert.Equal(t, pan[n-4:], tok[n-4:], "the last four are kept")
				if domain == "pan" {
					assert.True(t, luhn.Valid(tok), "unmarked card tokens pass the Luhn check")
					assert.False(t, f.IsToken(domain, tok))
				} else {
					assert.False(t, luhn.Valid(tok), "marked card tokens fail the Luhn check")
					assert.Equal(t, 1, luhnResidue(tok))
					assert.True(t, f.IsToken(domain, tok))
					assert.False(t, f.IsToken(domain, pan))
				}
				back, err := f.Detokenize(ctx, domain, tok)
				require.NoError(t, err)
				require.Equal(t, pan, back)
			}
		}
	}
	tok, err := f.Tokenize(ctx, "card", "4111 1111-1111 1111")
	require.NoError(t, err)
	back, err := f.Detokenize(ctx, "card", tok)
	require.NoError(t, err)
	assert.Equal(t, "4111111111111111", back, "separators are dropped")
	assert.True(t, f.RecognizesTokens("card"))
	assert.False(t, f.RecognizesTokens("pan"))
}

// With the issuer and last four fixed, Luhn-valid 16-digit numbers differ
// in 5 free digits: cycle-walking must permute exactly those 100,000.
func TestFPECardIsAPermutationOfValidNumbers(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates 100,000 numbers")
	}
	f := newTestFPE(t, FPEOptions{})
	seen := make(map[string]bool, 100_000)
	for mid := range 100_000 {
		pay := fmt.Sprintf("411111%05d01111", mid)
		// Choose the sixth middle digit so that the number is valid.
		for d := byte('0'); d <= '9'; d++ {
			cand := pay[:11] + string(d) + pay[12:]
			if luhn.Valid(cand) {
				pay = cand
				break
			}
		}
		require.True(t, luhn.Valid(pay))
		tok, err := f.Tokenize(ctx, "pan", pay)
		require.NoError(t, err)
		require.False(t, seen[tok], "two numbers gave one token")
		seen[tok] = true
	}
	assert.Len(t, seen, 100_000)
}

func TestFPECardErrors(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	cases := []struct {
		domain, value string
		want          error
	}{
		{"card", "4111111111111112", ErrCheckDigit},
		{"card", "378282246310005", ErrTooShort}, // 15-digit Amex: 5 digits left
		{"card", "4111.1111.1111.1111", ErrInvalidCharacter},
		{"card", "41111111111", ErrInvalidValue},
		{"card", "41111111111111111111", ErrInvalidValue},
		{"card", "", ErrInvalidValue},
	}
	for _, c := range cases {
		_, err := f.Tokenize(ctx, c.domain, c.value)
		assert.ErrorIs(t, err, c.want, "%s %q", c.domain, c.value)
	}

	// Keeping 4 leading digits makes room for 15-digit numbers.
	tok, err := f.Tokenize(ctx, "amex", "378282246310005")
	require.NoError(t, err)
	assert.Equal(t, "3782", tok[:4])
	assert.Equal(t, "0005", tok[11:])
	assert.True(t, luhn.Valid(tok))
	back, err := f.Detokenize(ctx, "amex", tok)
	require.NoError(t, err)
	assert.Equal(t, "378282246310005", back)

	marked, err := f.Tokenize(ctx, "card", "4111111111111111")
	require.NoError(t, err)
	_, err = f.Tokenize(ctx, "card", marked)
	assert.ErrorIs(t, err, ErrCheckDigit, "a marked token is never tokenized twice")
	_, err = f.Detokenize(ctx, "card", "4111111111111111")
	assert.ErrorIs(t, err, ErrMalformedToken, "a card without the marker is not a marked token")
	_, err = f.Detokenize(ctx, "pan", marked)
	assert.ErrorIs(t, err, ErrMalformedToken, "an unmarked token must pass the Luhn check")
	_, err = f.Detokenize(ctx, "card", "4111 1111 1111 1111")
	assert.ErrorIs(t, err, ErrMalformedToken)
	_, err = f.Detokenize(ctx, "card", "411111111111")
	assert.ErrorIs(t, err, ErrMalformedToken)

	_, err = NewFPE(loadFixedKeys(t), map[string]Format{"c": Card(CardOptions{KeepFirst: 9})}, FPEOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestFPEPhoneKeepsCountryCode(t *testing.T) {
	f := newTestFPE(t, FPEOptions{DefaultCountryCode: "44"})
	cases := []struct{ in, e164, cc string }{
		{"+44 20 7946 0800", "+442079460800", "44"},
		{"020 7946 0800", "+442079460800", "44"},
		{"+1 (415) 555-0100", "+14155550100", "1"},
		{"+86 138 0013 8000", "+8613800138000", "86"},
		{"+353 1 234 5678", "+35312345678", "353"},
		{"0049 30 123456", "+4930123456", "49"},
		{"+7 495 123-45-67", "+74951234567", "7"},
	}
	for _, c := range cases {
		tok, err := f.Tokenize(ctx, "phone", c.in)
		require.NoError(t, err, c.in)
		assert.Len(t, tok, len(c.e164))
		assert.True(t, strings.HasPrefix(tok, "+"+c.cc), "%s keeps +%s: %s", c.in, c.cc, tok)
		assert.NotEqual(t, c.e164, tok)
		back, err := f.Detokenize(ctx, "phone", tok)
		require.NoError(t, err)
		assert.Equal(t, c.e164, back)
	}

	noCC := newTestFPE(t, FPEOptions{})
	_, err := noCC.Tokenize(ctx, "phone", "020 7946 0800")
	assert.ErrorIs(t, err, ErrInvalidValue, "no country code and no default")
	_, err = f.Tokenize(ctx, "phone", "+44 20 7946 0800 ext 12")
	assert.ErrorIs(t, err, ErrInvalidCharacter)
	_, err = f.Tokenize(ctx, "phone", "+44 12345")
	assert.ErrorIs(t, err, ErrTooShort)
	_, err = f.Tokenize(ctx, "phone", "+44")
	assert.ErrorIs(t, err, ErrTooShort)
	_, err = f.Tokenize(ctx, "phone", "+1234567890123456")
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = f.Detokenize(ctx, "phone", "442079460800")
	assert.ErrorIs(t, err, ErrMalformedToken)
	_, err = f.Detokenize(ctx, "phone", "+44 2079460800")
	assert.ErrorIs(t, err, ErrMalformedToken)
}

func TestCountryCodeLen(t *testing.T) {
	for d, want := range map[string]int{
		"14155550100": 1, "74951234567": 1, "442079460800": 2, "8613800138000": 2, "35312345678": 3,
		"97150123456": 3, "2125551234": 3, "27115551234": 2, "8522345678": 3, "": 0, "35": 2,
	} {
		assert.Equal(t, want, phone.CountryCodeLen(d), d)
	}
}

func TestFPEChineseResidentID(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var b strings.Builder
		for range 17 {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		c, err := luhn.GB11643CheckChar(b.String())
		require.NoError(t, err)
		id := b.String() + string(c)
		for _, domain := range []string{"cnid", "national_id"} {
			tok, err := f.Tokenize(ctx, domain, id)
			require.NoError(t, err)
			require.Len(t, tok, 18)
			if domain == "cnid" {
				assert.True(t, luhn.ValidGB11643(tok), "unmarked tokens carry a valid check character")
				assert.False(t, f.IsToken(domain, tok))
			} else {
				assert.False(t, luhn.ValidGB11643(tok))
				assert.True(t, f.IsToken(domain, tok))
				assert.False(t, f.IsToken(domain, id))
			}
			back, err := f.Detokenize(ctx, domain, tok)
			require.NoError(t, err)
			assert.Equal(t, id, back)
		}
	}
	tok, err := f.Tokenize(ctx, "cnid", " 11010519491231002x")
	require.NoError(t, err, "a lower-case x is accepted")
	back, err := f.Detokenize(ctx, "cnid", tok)
	require.NoError(t, err)
	assert.Equal(t, "11010519491231002X", back)

	for value, want := range map[string]error{
		"110105194912310021":  ErrCheckDigit,
		"11010519491231002":   ErrInvalidValue,
		"1101051949123100X2":  ErrInvalidCharacter,
		"11010519491231002XX": ErrInvalidCharacter,
	} {
		_, err := f.Tokenize(ctx, "cnid", value)
		assert.ErrorIs(t, err, want, value)
	}
	_, err = f.Detokenize(ctx, "national_id", "11010519491231002X")
	assert.ErrorIs(t, err, ErrMalformedToken, "a valid ID is not a marked token")
	_, err = f.Detokenize(ctx, "cnid", "1101051949123100")
	assert.ErrorIs(t, err, ErrMalformedToken)
	assert.False(t, f.IsToken("national_id", "1101051949123100"))
	assert.False(t, f.IsToken("nope", "11010519491231002X"))
}

func TestFPEKeyVersionIsPinned(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	f, err := NewFPE(kr, testFormats, allowAll(FPEOptions{}))
	require.NoError(t, err)
	v1, err := kms.NewAdmin(kr).Versions(ctx, DefaultFPEKeyset)
	require.NoError(t, err)
	old := v1[0].ID
	tok, err := f.Tokenize(ctx, "card", "4111111111111111")
	require.NoError(t, err)

	v2, err := kms.NewAdmin(kr).Rotate(ctx, DefaultFPEKeyset)
	require.NoError(t, err)
	_, err = f.Tokenize(ctx, "card", "4111111111111111")
	require.ErrorIs(t, err, ErrKeyVersion, "two enabled versions and no pin: fail closed, never guess")
	_, err = f.Detokenize(ctx, "card", tok)
	require.ErrorIs(t, err, ErrKeyVersion)

	pinnedOld, err := NewFPE(kr, testFormats, allowAll(FPEOptions{KeyID: old}))
	require.NoError(t, err)
	again, err := pinnedOld.Tokenize(ctx, "card", "4111111111111111")
	require.NoError(t, err)
	assert.Equal(t, tok, again)

	moved, err := pinnedOld.Rekey(ctx, "card", tok, old, v2.ID)
	require.NoError(t, err)
	assert.NotEqual(t, tok, moved)
	pinnedNew, err := NewFPE(kr, testFormats, allowAll(FPEOptions{KeyID: v2.ID}))
	require.NoError(t, err)
	v, err := pinnedNew.Detokenize(ctx, "card", moved)
	require.NoError(t, err)
	assert.Equal(t, "4111111111111111", v)

	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultFPEKeyset, old))
	_, err = pinnedOld.Detokenize(ctx, "card", tok)
	assert.ErrorIs(t, err, ErrKeyVersion)
	_, err = pinnedNew.Rekey(ctx, "card", moved, 0, v2.ID)
	assert.ErrorIs(t, err, ErrKeyVersion)
	_, err = pinnedNew.Rekey(ctx, "card", "junk", v2.ID, v2.ID)
	assert.ErrorIs(t, err, ErrMalformedToken)
}

func TestFPEBatchAndConstructor(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	vals := []string{"4111111111111111", "5555555555554444", "4000056655665556"}
	toks, err := f.TokenizeBatch(ctx, "card", vals)
	require.NoError(t, err)
	back, err := f.DetokenizeBatch(ctx, "card", toks)
	require.NoError(t, err)
	assert.Equal(t, vals, back)
	_, err = f.TokenizeBatch(ctx, "card", []string{vals[0], "4111111111111112"})
	require.ErrorIs(t, err, ErrCheckDigit)
	assert.Contains(t, err.Error(), "batch element 1")
	_, err = f.DetokenizeBatch(ctx, "card", []string{"x"})
	assert.ErrorIs(t, err, ErrMalformedToken)
	_, err = f.DetokenizeBatch(ctx, "", toks)
	assert.ErrorIs(t, err, ErrInvalidDomain)

	denied, err := NewFPE(loadFixedKeys(t), testFormats, FPEOptions{})
	require.NoError(t, err)
	_, err = denied.DetokenizeBatch(ctx, "card", toks)
	assert.ErrorIs(t, err, ErrDenied)
	_, err = denied.Detokenize(ctx, "card", toks[0])
	assert.ErrorIs(t, err, ErrDenied)

	for _, bad := range []map[string]Format{
		nil,
		{"x": {}},
		{"bad name": Numeric()},
		{"x": Phone().Keep(1, 1)},
		{"x": Numeric().Keep(-1, 0)},
	} {
		_, err := NewFPE(loadFixedKeys(t), bad, FPEOptions{})
		assert.ErrorIs(t, err, ErrInvalidOptions)
	}
	_, err = NewFPE(nil, testFormats, FPEOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	missing, err := NewFPE(loadFixedKeys(t), testFormats, FPEOptions{Keyset: "missing"})
	require.NoError(t, err)
	_, err = missing.Tokenize(ctx, "card", vals[0])
	assert.ErrorIs(t, err, kms.ErrNotFound)
	pinnedUnknown, err := NewFPE(loadFixedKeys(t), testFormats, FPEOptions{KeyID: 7})
	require.NoError(t, err)
	_, err = pinnedUnknown.Tokenize(ctx, "card", vals[0])
	assert.ErrorIs(t, err, ErrKeyVersion)
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{
		Numeric():                          "numeric",
		Base36().Keep(1, 2):                "base36(keep 1+2)",
		Base62():                           "base62",
		Card(CardOptions{}):                "card(keep 6+4)",
		Card(CardOptions{Marked: true}):    "card(keep 6+4)(marked)",
		Phone():                            "phone",
		ChineseResidentID(IDOptions{}):     "cn-resident-id",
		ChineseResidentID(IDOptions{true}): "cn-resident-id(marked)",
		{}:                                 "invalid",
	} {
		assert.Equal(t, want, f.String())
	}
}

func TestFPEConcurrentUse(t *testing.T) {
	f := newTestFPE(t, FPEOptions{})
	want := map[string]string{}
	vals := map[string]string{"card": "4111111111111111", "phone": "+442079460800", "cnid": "11010519491231002X", "ref62": "AbC9xyz"}
	for d, v := range vals {
		tok, err := f.Tokenize(ctx, d, v)
		require.NoError(t, err)
		want[d] = tok
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 300 {
				for d, v := range vals {
					tok, err := f.Tokenize(ctx, d, v)
					if err == nil && tok != want[d] {
						err = fmt.Errorf("%s: another token", d)
					}
					if err == nil {
						var back string
						if back, err = f.Detokenize(ctx, d, tok); err == nil && back != v {
							err = fmt.Errorf("%s: another value", d)
						}
					}
					if err != nil {
						errs <- fmt.Errorf("goroutine %d, round %d: %w", g, i, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}
