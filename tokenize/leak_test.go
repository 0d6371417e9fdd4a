package tokenize

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// TestErrorsAndEventsLeakNoValueOrToken drives every tokenizer through its
// failures and successes with recognisable values, and scans every error
// message and every audit event for the values and tokens.
func TestErrorsAndEventsLeakNoValueOrToken(t *testing.T) {
	keys := loadFixedKeys(t)
	log := &eventLog{}
	authorize := func(_ context.Context, domain string) error {
		if domain == "locked" {
			return errors.New("hook says no")
		}
		return nil
	}
	h, err := NewHMAC(keys, HMACOptions{Audit: log, DefaultCountryCode: "44"})
	require.NoError(t, err)
	s, err := NewSIV(keys, SIVOptions{Audit: log, DefaultCountryCode: "44", Authorize: authorize})
	require.NoError(t, err)
	formats := map[string]Format{"card": Card(CardOptions{Marked: true}), "pan": Card(CardOptions{}), "phone": Phone(),
		"locked": Numeric(), "cnid": ChineseResidentID(IDOptions{}), "ref": Base62(), "acct": Numeric().Keep(2, 2)}
	f, err := NewFPE(keys, formats, FPEOptions{Audit: log, DefaultCountryCode: "44", Authorize: authorize})
	require.NoError(t, err)
	v := newMemVault(t, keys, VaultOptions{Audit: log, DefaultCountryCode: "44", Authorize: authorize})

	var secrets []string
	var errs []error
	try := func(_ any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Values that fail, in every way each kind can fail.
	badValues := map[string][]string{
		"card":  {"4111111111111112", "4111-1111-1111-111x", "378282246310005", "411111111111111111111", "secret-not-a-card"},
		"pan":   {"4111111111111112"},
		"phone": {"02079460800 ext 99", "+44 12345", "+1234567890123456789", "+"},
		"cnid":  {"110105194912310021", "1101051949123100211", "11010519491231002Y"},
		"ref":   {"ab-cdef", "abc"},
		"acct":  {"12345678x0", "1234"},
	}
	for domain, vals := range badValues {
		for _, val := range vals {
			secrets = append(secrets, val)
			try(f.Tokenize(ctx, domain, val))
			try(f.Detokenize(ctx, domain, val))
			try(f.TokenizeBatch(ctx, domain, []string{val}))
		}
	}
	for _, val := range []string{"   ", strings.Repeat("secret-long-value", MaxValueSize/16)} {
		try(h.Tokenize(ctx, "name", val))
		try(s.Tokenize(ctx, "name", val))
		try(v.Tokenize(ctx, "name", val))
	}
	// A value passed as the domain by mistake is never echoed.
	secrets = append(secrets, "lucy@example.com", "Lucy Westenra")
	try(h.Tokenize(ctx, "lucy@example.com", "email"))
	try(s.Tokenize(ctx, "Lucy Westenra", "name"))
	try(f.Tokenize(ctx, "lucy@example.com", "4111111111111111"))
	secrets = append(secrets, "LucyWestenra")
	try(f.Tokenize(ctx, "LucyWestenra", "4111111111111111")) // valid grammar, not configured
	try(f.Detokenize(ctx, "LucyWestenra", "4111111111111111"))
	try(v.Tokenize(ctx, "Lucy Westenra", "name"))
	try(s.Detokenize(ctx, "lucy@example.com", "x"))
	try(v.Detokenize(ctx, "Lucy Westenra", "x"))
	_, err = v.Erase(ctx, "lucy@example.com", "x")
	errs = append(errs, err)

	// Good values, then their tokens misused.
	goods := map[string]string{"email": "secret.lucy@example.com", "card": "4111111111111111", "phone": "+44 20 7946 0800", "locked": "98765432"}
	for domain, val := range goods {
		secrets = append(secrets, val)
		ht, err := h.Tokenize(ctx, domain, val)
		require.NoError(t, err)
		st, err := s.Tokenize(ctx, domain, val)
		require.NoError(t, err)
		vt, err := v.Tokenize(ctx, domain, val)
		require.NoError(t, err)
		secrets = append(secrets, ht, st, vt, st[sivHeaderLen:], ht[len(ht)-20:], vt[len(vt)-20:])
		try(h.Detokenize(ctx, domain, ht))
		try(h.Detokenize(ctx, "other", ht))
		try(h.Match(ctx, "other", val, ht))
		try(s.Detokenize(ctx, "other", st))
		try(s.Detokenize(ctx, domain, st[:len(st)-3]+"aaa"))
		try(s.Detokenize(ctx, domain, strings.ToUpper(st)))
		try(s.Detokenize(ctx, "locked", st))
		try(v.Detokenize(ctx, "other", vt))
		try(v.Detokenize(ctx, "locked", vt))
		try(v.DetokenizeBatch(ctx, domain, []string{vt, vt + "x"}))
		errs = append(errs, v.Delete(ctx, "other", vt))
		if _, ok := formats[domain]; ok {
			ft, err := f.Tokenize(ctx, domain, val)
			require.NoError(t, err)
			secrets = append(secrets, ft, strings.TrimPrefix(ft, "+44"))
			try(f.Detokenize(ctx, "locked", ft))
			try(f.Detokenize(ctx, "pan", ft))
			try(f.Rekey(ctx, domain, ft, 1, 2))
		}
		require.NoError(t, v.Delete(ctx, domain, vt))
		try(v.Detokenize(ctx, domain, vt))
	}
	// A sink that fails.
	log.fail = errors.New("sink down")
	try(s.Tokenize(ctx, "email", "secret.lucy@example.com"))
	try(v.Tokenize(ctx, "email", "secret.lucy@example.com"))
	log.fail = nil

	require.Greater(t, len(errs), 80)
	for _, err := range errs {
		require.Error(t, err)
		var te *Error
		assert.True(t, errors.As(err, &te), "every error is an *Error: %v", err)
		assert.True(t, strings.HasPrefix(err.Error(), "tokenize: "), err.Error())
		assertNoLeak(t, err.Error(), secrets...)
		assertNoLeak(t, fmt.Sprintf("%+v %#v", err, err), secrets...)
	}
	events := log.all()
	require.NotEmpty(t, events)
	var failures int
	for _, e := range events {
		assertNoLeak(t, fmt.Sprintf("%+v", e), secrets...)
		assert.Contains(t, []audit.Action{audit.ActionTokenize, audit.ActionDetokenize, audit.ActionErase}, e.Action)
		if e.Outcome == audit.OutcomeFailure {
			failures++
			assert.NotEmpty(t, e.Error)
			assert.NotContains(t, e.Error, " ", "Error holds a class, not a message")
		}
	}
	assert.Greater(t, failures, 40)
}

func TestErrorCodes(t *testing.T) {
	// One set of codes for the module (piiguard.ErrorCode): every sentinel
	// falls in its class.
	for err, want := range map[error]string{
		ErrDenied: "denied", ErrInvalidDomain: "invalid_argument", ErrInvalidOptions: "invalid_argument",
		ErrInvalidValue: "invalid_argument", ErrInvalidCharacter: "invalid_argument", ErrTooShort: "invalid_argument",
		ErrCheckDigit: "invalid_argument", ErrMalformedToken: "invalid_argument", ErrWrongDomain: "invalid_argument",
		ErrExpiredToken: "not_found", ErrUnknownToken: "not_found", ErrIrreversible: "invalid_argument",
		ErrKeyVersion: "disabled", ErrStore: "unavailable", context.Canceled: "canceled",
		context.DeadlineExceeded: "deadline_exceeded", errors.New("other"): "internal",
	} {
		assert.Equal(t, want, errorCode(fmt.Errorf("x: %w", err)))
	}
	e := &Error{Kind: "fpe", Op: "tokenize", Err: ErrTooShort}
	assert.Equal(t, "tokenize: fpe tokenize: value too short for the domain", e.Error())
}
