package pii

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/kms"
)

func TestSearchTermsFindSealedRecords(t *testing.T) {
	env := newEnv(t, Options{DefaultCountryCode: "44"})
	c := lucy()
	require.NoError(t, env.p.Seal(ctx, &c))
	for _, term := range []string{"lucy.westenra@example.com", "  LUCY.Westenra@Example.com\t"} {
		terms, err := env.p.SearchTerms(ctx, (*Customer)(nil), "Email", term)
		require.NoError(t, err)
		require.Len(t, terms, 1)
		assert.Equal(t, c.EmailIndex, terms[0], "normalised term %q", term)
	}
	other, err := env.p.SearchTerms(ctx, Customer{}, "Email", "mina@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, c.EmailIndex, other[0])

	none, err := env.p.SearchTerms(ctx, Customer{}, "Email", "   ")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestSearchAcrossRotation(t *testing.T) {
	env := newEnv(t, Options{})
	before := lucy()
	require.NoError(t, env.p.Seal(ctx, &before))
	v1, err := kms.NewAdmin(env.kr).Versions(ctx, DefaultSearchKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(env.kr).Rotate(ctx, DefaultSearchKeyset)
	require.NoError(t, err)

	after := lucy()
	after.ID = "cus_2"
	require.NoError(t, env.p.Seal(ctx, &after))
	assert.NotEqual(t, before.EmailIndex, after.EmailIndex, "the new primary indexes new rows")

	terms, err := env.p.SearchTerms(ctx, Customer{}, "Email", "lucy.westenra@example.com")
	require.NoError(t, err)
	require.Len(t, terms, 2)
	assert.Equal(t, after.EmailIndex, terms[0], "the primary's value first")
	assert.Equal(t, before.EmailIndex, terms[1], "rows indexed before the rotation are found")
	assert.Contains(t, terms[1], "."+hex8(v1[0].ID)+".", "index values name their key version")

	// Reindexing: Open + Seal moves a row to the new version.
	require.NoError(t, env.p.Open(ctx, &before))
	before.EmailIndex = ""
	require.NoError(t, env.p.Seal(ctx, &before))
	assert.Equal(t, after.EmailIndex, before.EmailIndex)

	// A disabled version leaves the search at once.
	require.NoError(t, kms.NewAdmin(env.kr).Disable(ctx, DefaultSearchKeyset, v1[0].ID))
	terms, err = env.p.SearchTerms(ctx, Customer{}, "Email", "lucy.westenra@example.com")
	require.NoError(t, err)
	assert.Equal(t, []string{after.EmailIndex}, terms)
}

func hex8(id uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[id&0xf]
		id >>= 4
	}
	return string(b)
}

func TestIndexBitsTruncate(t *testing.T) {
	for _, bits := range []int{1, 7, 8, 13, 16, 32, 256} {
		env := newEnv(t, Options{IndexBits: bits})
		terms, err := env.p.SearchTerms(ctx, Customer{}, "Email", "lucy@example.com")
		require.NoError(t, err)
		parts := strings.Split(terms[0], ".")
		require.Len(t, parts, 3)
		raw, err := b64.DecodeString(parts[2])
		require.NoError(t, err, "bits=%d", bits)
		assert.Len(t, raw, (bits+7)/8, "bits=%d", bits)
		if r := bits % 8; r != 0 {
			assert.Zero(t, raw[len(raw)-1]&byte(0xff>>r), "unused bits are zero (bits=%d)", bits)
		}
	}
	_, err := newProtector(nil, Options{Checker: access.InsecureAllowAll, IndexBits: 257})
	assert.Error(t, err)
	_, err = newProtector(nil, Options{Checker: access.InsecureAllowAll, IndexBits: -1})
	assert.Error(t, err)
}

func TestIndexesAreSeparatedByField(t *testing.T) {
	type TwoEmails struct {
		ID        string `pii:"id"`
		Work      string `pii:"email,search=WorkIndex"`
		WorkIndex string
		Home      string `pii:"email,search=HomeIndex"`
		HomeIndex string
	}
	env := newEnv(t, Options{IndexBits: 64})
	r := TwoEmails{ID: "1", Work: "lucy@example.com", Home: "lucy@example.com"}
	require.NoError(t, env.p.Seal(ctx, &r))
	assert.NotEqual(t, r.WorkIndex, r.HomeIndex, "equal values in two fields do not link")
}

func TestSearchTermsForNestedFields(t *testing.T) {
	env := newEnv(t, Options{})
	a := Account{ID: 1, Home: Address{Postcode: "YO21 3EJ"}, Addresses: []Address{{Postcode: "SW1A 2AA"}}, Contacts: []*Contact{{Email: "mina@example.com"}}}
	require.NoError(t, env.p.Seal(ctx, &a))
	for path, want := range map[string]string{
		"Home.Postcode":        a.Home.PostcodeIndex,
		"Addresses[].Postcode": a.Addresses[0].PostcodeIndex,
		"Contacts[].Email":     a.Contacts[0].EmailIndex,
	} {
		term := map[string]string{"Home.Postcode": "yo213ej", "Addresses[].Postcode": "sw1a 2aa", "Contacts[].Email": "MINA@example.com"}[path]
		terms, err := env.p.SearchTerms(ctx, &a, path, term)
		require.NoError(t, err, path)
		assert.Equal(t, want, terms[0], path)
	}
	_, err := env.p.SearchTerms(ctx, &a, "Home.Street", "x")
	assert.ErrorIs(t, err, ErrNotSearchable)
	_, err = env.p.SearchTerms(ctx, &a, "Nope", "x")
	assert.ErrorIs(t, err, ErrNotSearchable)
	_, err = env.p.SearchTerms(ctx, 42, "Email", "x")
	assert.ErrorIs(t, err, ErrInvalidRecord)
	_, err = env.p.SearchTerms(ctx, badKind{}, "Email", "x")
	assert.ErrorIs(t, err, ErrInvalidTag)
}

func TestSearchIsAudited(t *testing.T) {
	env := newEnv(t, Options{})
	_, err := env.p.SearchTerms(ctx, Customer{}, "Email", "lucy@example.com")
	require.NoError(t, err)
	ev := env.events.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "search", string(ev[0].Action))
	assert.Equal(t, "Email", ev[0].Field)
	assert.Equal(t, "contact", ev[0].Class)
}

func TestEqualUsesTheKindsNormalisation(t *testing.T) {
	p, err := newProtector(nil, Options{Checker: access.InsecureAllowAll, DefaultCountryCode: "+44"})
	require.NoError(t, err)
	assert.True(t, p.Equal(KindEmail, "Lucy@Example.com ", "lucy@example.com"))
	assert.True(t, p.Equal(KindPhone, "020 7946 8000", "+44 20 7946 8000"))
	assert.True(t, p.Equal(KindCard, "4111-1111-1111-1111", "4111 1111 1111 1111"))
	assert.True(t, p.Equal(KindName, "lucy  WESTENRA", "Lucy Westenra"))
	assert.True(t, p.Equal(KindNationalID, "110105-19491231-002x", "11010519491231002X"))
	assert.False(t, p.Equal(KindEmail, "", " "))
	assert.False(t, p.Equal(KindEmail, "a@example.com", "b@example.com"))
	_, err = newProtector(nil, Options{Checker: access.InsecureAllowAll, DefaultCountryCode: "044"})
	assert.Error(t, err)
}
