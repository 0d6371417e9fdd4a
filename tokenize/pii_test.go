package tokenize_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/internal/luhn"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/pii"
	"github.com/piiguard/piiguard/tokenize"
	"github.com/piiguard/piiguard/tokenize/sqlvault"
)

// Every tokenizer plugs into pii's token= tag option. (Only tests import
// pii and access: pii imports tokenize, and tokenize leaves access checks
// to its Authorize hook.)
var (
	_ pii.Tokenizer = (*tokenize.HMAC)(nil)
	_ pii.Tokenizer = (*tokenize.SIV)(nil)
	_ pii.Tokenizer = (*tokenize.FPE)(nil)
	_ pii.Tokenizer = (*tokenize.Vault)(nil)
)

// The optional abilities pii looks for, by the method sets it asks for
// today (pii is to give them names, such as TokenRecognizer): every
// tokenizer says which domains' tokens it recognises, and HMAC that its
// tokens cannot be reversed.
var (
	_ interface{ RecognizesTokens(domain string) bool } = (*tokenize.HMAC)(nil)
	_ interface{ RecognizesTokens(domain string) bool } = (*tokenize.SIV)(nil)
	_ interface{ RecognizesTokens(domain string) bool } = (*tokenize.FPE)(nil)
	_ interface{ RecognizesTokens(domain string) bool } = (*tokenize.Vault)(nil)
	_ interface{ Reversible() bool }                    = (*tokenize.HMAC)(nil)
)

// newTestKeyring returns a key ring with pii's and tokenize's keysets.
func newTestKeyring(t testing.TB) *kms.Keyring {
	t.Helper()
	ctx := context.Background()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })
	for name, p := range map[string]kms.Purpose{
		pii.DefaultFieldKeyset:           kms.PurposeAEAD,
		pii.DefaultSearchKeyset:          kms.PurposePRF,
		tokenize.DefaultFPEKeyset:        kms.PurposePRF,
		tokenize.DefaultSIVKeyset:        kms.PurposeDeterministicAEAD,
		tokenize.DefaultVaultKeyset:      kms.PurposeAEAD,
		tokenize.DefaultVaultIndexKeyset: kms.PurposePRF,
		tokenize.DefaultHMACKeyset:       kms.PurposePRF,
	} {
		require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, name, p))
	}
	return kr
}

type payment struct {
	ID        string `pii:"id"`
	Card      string `pii:"card,token=fpe,search=CardIndex"`
	CardIndex string
	Email     string `pii:"email,token=siv"`
	Phone     string `pii:"phone"`
}

// TestPIITokenFields seals a record whose card is tokenized in place with
// format-preserving, Luhn-marked tokens, and opens it again.
func TestPIITokenFields(t *testing.T) {
	ctx := context.Background()
	kr := newTestKeyring(t)
	fpe, err := tokenize.NewFPE(kr, map[string]tokenize.Format{
		"card": tokenize.Card(tokenize.CardOptions{Marked: true}),
	}, tokenize.FPEOptions{Authorize: tokenize.AllowAll}) // pii checks access before Open
	require.NoError(t, err)
	siv, err := tokenize.NewSIV(kr, tokenize.SIVOptions{Authorize: tokenize.AllowAll})
	require.NoError(t, err)
	p, err := pii.New(kr, pii.Options{Checker: access.InsecureAllowAll, Tokenizers: map[string]pii.Tokenizer{"fpe": fpe, "siv": siv}})
	require.NoError(t, err)
	assert.True(t, fpe.RecognizesTokens("card"))

	rec := payment{ID: "p1", Card: "4111 1111 1111 1111", Email: "Lucy@Example.com", Phone: "+44 20 7946 0800"}
	require.NoError(t, p.Seal(ctx, &rec))
	assert.Len(t, rec.Card, 16)
	assert.Equal(t, "411111", rec.Card[:6], "the token keeps the issuer")
	assert.Equal(t, "1111", rec.Card[12:], "and the last four")
	assert.False(t, luhn.Valid(rec.Card), "and is marked by failing the Luhn check")
	assert.True(t, fpe.IsToken("card", rec.Card))
	assert.NotEmpty(t, rec.CardIndex)
	assert.True(t, siv.IsToken("email", rec.Email))
	assert.NotContains(t, rec.Phone, "7946")

	sealed := rec
	require.NoError(t, p.Seal(ctx, &rec), "sealing twice is idempotent")
	assert.Equal(t, sealed.Card, rec.Card, "a token is not tokenized twice")
	assert.Equal(t, sealed.Email, rec.Email)

	require.NoError(t, p.Open(ctx, &rec))
	assert.Equal(t, "4111111111111111", rec.Card)
	assert.Equal(t, "lucy@example.com", rec.Email, "reversible tokens return the normalised value")
	assert.Equal(t, "+44 20 7946 0800", rec.Phone)
}

// A vaulted token field works the same way, through the SQL store.
func TestPIIVaultTokenField(t *testing.T) {
	ctx := context.Background()
	kr := newTestKeyring(t)
	st, err := sqlvault.OpenSQLite(t.TempDir()+"/tokens.db", sqlvault.Options{})
	require.NoError(t, err)
	defer st.Close()
	v, err := tokenize.NewVault(kr, st, tokenize.VaultOptions{Authorize: tokenize.AllowAll})
	require.NoError(t, err)
	p, err := pii.New(kr, pii.Options{Checker: access.InsecureAllowAll, Tokenizers: map[string]pii.Tokenizer{"vault": v}})
	require.NoError(t, err)
	type customer struct {
		ID    string `pii:"id"`
		Email string `pii:"email,token=vault"`
	}
	c := customer{ID: "c1", Email: "lucy@example.com"}
	require.NoError(t, p.Seal(ctx, &c))
	assert.True(t, v.IsToken("email", c.Email))
	tok := c.Email
	require.NoError(t, p.Seal(ctx, &c))
	assert.Equal(t, tok, c.Email)
	require.NoError(t, p.Open(ctx, &c))
	assert.Equal(t, "lucy@example.com", c.Email)
}

// An unmarked, Luhn-valid card format cannot be told from a card: pii
// refuses it for in-place tokenization, so Seal never tokenizes a token.
func TestPIIRefusesUnrecognizableTokens(t *testing.T) {
	ctx := context.Background()
	kr := newTestKeyring(t)
	fpe, err := tokenize.NewFPE(kr, map[string]tokenize.Format{
		"card": tokenize.Card(tokenize.CardOptions{}),
	}, tokenize.FPEOptions{Authorize: tokenize.AllowAll})
	require.NoError(t, err)
	require.False(t, fpe.RecognizesTokens("card"))
	p, err := pii.New(kr, pii.Options{Checker: access.InsecureAllowAll, Tokenizers: map[string]pii.Tokenizer{"fpe": fpe}})
	require.NoError(t, err)
	type order struct {
		ID   string `pii:"id"`
		Card string `pii:"card,token=fpe"`
	}
	o := order{ID: "o1", Card: "4111111111111111"}
	err = p.Seal(ctx, &o)
	require.ErrorIs(t, err, pii.ErrNoTokenizer)
	assert.Equal(t, "4111111111111111", o.Card, "the record is left unchanged")
	assert.NotContains(t, err.Error(), "4111111111111111")
}

// HMAC tokens are join keys: Open leaves them in place instead of failing.
func TestPIIKeepsIrreversibleTokens(t *testing.T) {
	ctx := context.Background()
	kr := newTestKeyring(t)
	h, err := tokenize.NewHMAC(kr, tokenize.HMACOptions{})
	require.NoError(t, err)
	p, err := pii.New(kr, pii.Options{Checker: access.InsecureAllowAll, Tokenizers: map[string]pii.Tokenizer{"hmac": h}})
	require.NoError(t, err)
	type visit struct {
		ID    string `pii:"id"`
		Email string `pii:"email,token=hmac"`
	}
	v := visit{ID: "v1", Email: "lucy@example.com"}
	require.NoError(t, p.Seal(ctx, &v))
	tok := v.Email
	require.True(t, h.IsToken("email", tok))
	require.NoError(t, p.Open(ctx, &v))
	assert.Equal(t, tok, v.Email, "the token stays: there is no value to reveal")
}
