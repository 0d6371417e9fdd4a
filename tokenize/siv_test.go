package tokenize

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

func TestSIVRoundTripIsDeterministic(t *testing.T) {
	s, err := NewSIV(loadFixedKeys(t), allowAll(SIVOptions{}))
	require.NoError(t, err)
	a, err := s.Tokenize(ctx, "email", "  Lucy@Example.com")
	require.NoError(t, err)
	b, err := s.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.Equal(t, a, b, "equal normalised values give equal tokens")
	assert.True(t, strings.HasPrefix(a, "ts1_"))
	v, err := s.Detokenize(ctx, "email", a)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", v, "detokenize returns the normalised value")

	c, err := s.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, a[sivHeaderLen:], c[sivHeaderLen:], "the domain is associated data: another domain, another ciphertext")
}

func TestSIVDomainAndTampering(t *testing.T) {
	s, err := NewSIV(loadFixedKeys(t), allowAll(SIVOptions{}))
	require.NoError(t, err)
	tok, err := s.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)

	_, err = s.Detokenize(ctx, "contact", tok)
	assert.ErrorIs(t, err, ErrWrongDomain)

	// Forge the domain tag: the associated data still refuses it.
	var tag [tagLen]byte
	domainTag(&tag, "contact")
	forged := tok[:prefixLen+keyIDLen+1] + string(tag[:]) + tok[prefixLen+keyIDLen+1+tagLen:]
	_, err = s.Detokenize(ctx, "contact", forged)
	assert.ErrorIs(t, err, ErrUnknownToken)

	// Flip one payload character.
	last := tok[len(tok)-2]
	flip := byte('a')
	if last == 'a' {
		flip = 'b'
	}
	tampered := tok[:len(tok)-2] + string(flip) + tok[len(tok)-1:]
	_, err = s.Detokenize(ctx, "email", tampered)
	assert.ErrorIs(t, err, ErrUnknownToken)

	for _, bad := range []string{"", "ts1_", tok + "=", strings.ToUpper(tok), tok[:len(tok)-1], "th1" + tok[3:], "ts1_zzzzzzzz" + tok[12:]} {
		_, err = s.Detokenize(ctx, "email", bad)
		assert.ErrorIs(t, err, ErrMalformedToken, "%q", bad)
	}
	assert.True(t, s.IsToken("email", tok))
	assert.False(t, s.IsToken("contact", tok))
	assert.False(t, s.IsToken("email", "lucy@example.com"))
	assert.False(t, s.IsToken("", tok))
	assert.True(t, s.RecognizesTokens("email"))
}

func TestSIVRotationAndRetokenize(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	s, err := NewSIV(kr, allowAll(SIVOptions{}))
	require.NoError(t, err)
	old, err := s.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	oldID, ok := KeyVersion(old)
	require.True(t, ok)

	v2, err := kms.NewAdmin(kr).Rotate(ctx, DefaultSIVKeyset)
	require.NoError(t, err)
	v, err := s.Detokenize(ctx, "email", old)
	require.NoError(t, err, "every enabled version detokenizes")
	assert.Equal(t, "lucy@example.com", v)

	cur, err := s.Retokenize(ctx, "email", old)
	require.NoError(t, err)
	id, _ := KeyVersion(cur)
	assert.Equal(t, v2.ID, id)
	again, err := s.Retokenize(ctx, "email", cur)
	require.NoError(t, err)
	assert.Equal(t, cur, again, "a token on the primary is unchanged")

	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultSIVKeyset, oldID))
	_, err = s.Detokenize(ctx, "email", old)
	assert.ErrorIs(t, err, kms.ErrDisabled)
	v, err = s.Detokenize(ctx, "email", cur)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", v)

	unknown := old[:prefixLen] + "00000001" + old[prefixLen+keyIDLen:]
	_, err = s.Detokenize(ctx, "email", unknown)
	assert.ErrorIs(t, err, ErrUnknownToken)
	_, err = s.Retokenize(ctx, "email", "nope")
	assert.ErrorIs(t, err, ErrMalformedToken)
}

func TestSIVAuthorize(t *testing.T) {
	log := &eventLog{}
	s, err := NewSIV(loadFixedKeys(t), SIVOptions{Audit: log})
	require.NoError(t, err)
	tok, err := s.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	_, err = s.Detokenize(ctx, "email", tok)
	require.ErrorIs(t, err, ErrDenied, "no Authorize hook: fail closed")
	assert.Equal(t, "denied", log.last().Error)
	_, err = s.DetokenizeBatch(ctx, "email", []string{tok})
	require.ErrorIs(t, err, ErrDenied)

	hookErr := errors.New("no purpose")
	var asked []string
	s, err = NewSIV(loadFixedKeys(t), SIVOptions{Audit: log, Authorize: func(_ context.Context, domain string) error {
		asked = append(asked, domain)
		if domain == "email" {
			return hookErr
		}
		return nil
	}})
	require.NoError(t, err)
	_, err = s.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrDenied)
	assert.ErrorIs(t, err, hookErr)
	assert.Equal(t, []string{"email"}, asked)

	other, err := s.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	v, err := s.Detokenize(ctx, "contact", other)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", v)
	e := log.last()
	assert.Equal(t, audit.ActionDetokenize, e.Action)
	assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
	assert.Equal(t, "contact", e.Field)
	id, _ := KeyVersion(other)
	assert.Equal(t, id, e.KeyID)

	log.fail = errors.New("sink down")
	_, err = s.Detokenize(ctx, "contact", other)
	assert.Error(t, err, "no audit record, no value")
}

func TestSIVBatch(t *testing.T) {
	s, err := NewSIV(loadFixedKeys(t), allowAll(SIVOptions{}))
	require.NoError(t, err)
	vals := []string{"a@x.io", "b@x.io", "c@x.io"}
	toks, err := s.TokenizeBatch(ctx, "email", vals)
	require.NoError(t, err)
	back, err := s.DetokenizeBatch(ctx, "email", toks)
	require.NoError(t, err)
	assert.Equal(t, vals, back)

	_, err = s.DetokenizeBatch(ctx, "email", []string{toks[0], "junk"})
	require.ErrorIs(t, err, ErrMalformedToken)
	assert.Contains(t, err.Error(), "batch element 1")
	_, err = s.TokenizeBatch(ctx, "email", []string{"a@x.io", " "})
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = s.DetokenizeBatch(ctx, "bad domain", toks)
	assert.ErrorIs(t, err, ErrInvalidDomain)
}

func TestSIVErrors(t *testing.T) {
	_, err := NewSIV(nil, SIVOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	s, err := NewSIV(loadFixedKeys(t), allowAll(SIVOptions{Keyset: "missing"}))
	require.NoError(t, err)
	_, err = s.Tokenize(ctx, "email", "x@y.z")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	good, err := NewSIV(loadFixedKeys(t), SIVOptions{})
	require.NoError(t, err)
	tok, err := good.Tokenize(ctx, "email", "x@y.z")
	require.NoError(t, err)
	_, err = s.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, kms.ErrNotFound)
	_, err = s.Tokenize(ctx, "a b", "x")
	assert.ErrorIs(t, err, ErrInvalidDomain)
}
