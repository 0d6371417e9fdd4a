package pii

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaskPerKind(t *testing.T) {
	for _, tc := range []struct {
		k        Kind
		in, want string
	}{
		{KindName, "Lucy Westenra", "L. W."},
		{KindName, "élodie de la Tour", "É. D. L. T."},
		{KindName, "  ", "***"},
		{KindEmail, "lucy@example.com", "l***@example.com"},
		{KindEmail, "Élodie@exemple.fr", "É***@exemple.fr"},
		{KindEmail, "not-an-email", "***"},
		{KindEmail, "@example.com", "***"},
		{KindPhone, "+44 20 7946 8000", "*** **** 8000"},
		{KindPhone, "12345", "***"},
		{KindCard, "4111 1111 1111 1111", "4111 11** **** 1111"},
		{KindCard, "378282246310005", "3782 82** ***0 005"},
		{KindCard, "41111111", "**** 1111"},
		{KindCard, "4111", "****"},
		{KindNationalID, "AB12345678CD002X", "************002X"},
		{KindNationalID, "123-45-6789", "***-**-6789"},
		{KindNationalID, "12345678", "********"},
		{KindBankAccount, "GB82 WEST 1234 5698 7654 32", "GB** **** **** **** **54 32"},
		{KindAddress, "221B Baker Street, London NW1 6XE", "***, London"},
		{KindAddress, "1600 Amphitheatre Pkwy, Mountain View, CA 94043", "***, Mountain View"},
		{KindAddress, "somewhere", "***"},
		{KindCity, " Whitby ", "Whitby"},
		{KindStreet, "1 Crescent", "***"},
		{KindPostcode, "YO21 3EJ", "***"},
		{KindText, "anything at all", "***"},
		{KindDateOfBirth, "1987-04-12", "1987-**-**"},
		{KindDateOfBirth, "12/04/1987", "1987-**-**"},
		{KindDateOfBirth, "1987-04-12T00:00:00Z", "1987-**-**"},
		{KindDateOfBirth, "April", "****-**-**"},
		{KindIP, "192.0.2.44", "192.0.2.*"},
		{KindIP, "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::/48"},
		{KindIP, "nope", "***"},
		{Kind("unknown"), "x", "***"},
		{KindEmail, "", ""},
	} {
		assert.Equal(t, tc.want, Mask(tc.k, tc.in), "Mask(%s, %q)", tc.k, tc.in)
	}
}

func TestRedactMasksWithoutKeys(t *testing.T) {
	c := lucy()
	c.EmailIndex = "bi1.00000001.AAA"
	require.NoError(t, Redact(&c))
	assert.Equal(t, Customer{
		ID: "cus_1001", Name: "L. W.", Email: "L***@example.com", Phone: "*** **** 8000",
		NationalID: "**************002X", City: "Whitby",
	}, c)

	env := newEnv(t, Options{})
	a := fullAccount()
	require.NoError(t, env.p.Seal(ctx, &a))
	a.Home.Street = "9 Plain Rd" // a plaintext among sealed values
	require.NoError(t, Redact(&a))
	assert.Equal(t, SealedMask, a.Owner.Name)
	assert.Equal(t, "***", a.Home.Street)
	assert.Equal(t, "", a.Home.PostcodeIndex)
	m, ok := a.BirthDate.Masked()
	assert.True(t, ok)
	assert.Equal(t, SealedMask, m)

	b := fullAccount()
	require.NoError(t, Redact(&b))
	m, _ = b.BirthDate.Masked()
	assert.Equal(t, "1987-**-**", m)
	assert.Equal(t, "***", *b.Notes)
	assert.Equal(t, "L.", b.Nick.Reveal())
	assert.ErrorIs(t, env.p.Seal(ctx, &b), ErrSealed, "a redacted Value is never sealed")

	// Redact needs no ID.
	anon := noID{Email: "x@example.com"}
	require.NoError(t, Redact(&anon))
	assert.Equal(t, "x***@example.com", anon.Email)
	_ = time.Now
}
