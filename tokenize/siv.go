package tokenize

import (
	"context"
	"errors"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// sivLabel starts the associated data of every SIV token: the domain
// follows, so a token opens only in the domain that made it.
const sivLabel = "piiguard/tokenize/siv/v1\x00"

// SIV makes deterministic, reversible tokens: the normalised value
// encrypted with AES-SIV (Tink's deterministic AEAD, kms.PurposeDeterministicAEAD)
// with the domain as associated data. Equal values in one domain give equal
// tokens (so they can be joined and looked up), a token opens only in its
// domain, and a tampered or forged token fails to open instead of
// decrypting to garbage.
//
// Tokens have the grammar "ts1_" key-id "_" domain-tag "_" ciphertext (see
// the package documentation); they grow with the value. A SIV is safe for
// concurrent use.
type SIV struct {
	base
	keys DeterministicAEADKeys
}

// NewSIV returns a SIV tokenizer over the deterministic AEAD keyset
// opts.Keyset (default DefaultSIVKeyset) of keys. It makes no call to keys.
func NewSIV(keys DeterministicAEADKeys, opts SIVOptions) (*SIV, error) {
	b := base{kind: "siv", keyset: opts.Keyset, authz: opts.Authorize, kinds: opts.Kinds, country: opts.DefaultCountryCode, audit: opts.Audit, clock: opts.Clock}
	if err := b.init(DefaultSIVKeyset); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "nil key source"))
	}
	return &SIV{base: b, keys: keys}, nil
}

// Tokenize returns the token of value in domain, encrypted with the
// keyset's primary version. value is normalised first (see SIVOptions.Kinds),
// and Detokenize returns the normalised form.
func (t *SIV) Tokenize(ctx context.Context, domain, value string) (string, error) {
	tok, id, err := t.tokenize(ctx, domain, value)
	if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err); err != nil {
		return "", err
	}
	return tok, nil
}

func (t *SIV) tokenize(ctx context.Context, domain, value string) (string, uint32, error) {
	if err := t.checkDomain("tokenize", domain); err != nil {
		return "", 0, err
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return "", 0, err
	}
	d, err := t.keys.DeterministicAEAD(ctx, t.keyset)
	if err != nil {
		return "", 0, err
	}
	ct, err := d.EncryptDeterministically([]byte(v), sivAD(domain))
	if err != nil {
		return "", 0, err
	}
	if len(ct) < 5+sivMinLen || ct[0] != 1 {
		return "", 0, errf(ErrInvalidOptions, "keyset %q does not write Tink's output prefix", t.keyset)
	}
	id := uint32(ct[1])<<24 | uint32(ct[2])<<16 | uint32(ct[3])<<8 | uint32(ct[4])
	var tag [tagLen]byte
	domainTag(&tag, domain)
	body := ct[5:]
	b := make([]byte, 0, sivHeaderLen+b32.EncodedLen(len(body)))
	b = append(b, sivPrefix...)
	b = appendKeyID(b, id)
	b = append(b, '_')
	b = append(b, tag[:]...)
	b = append(b, '_')
	n := len(b)
	b = b[:n+b32.EncodedLen(len(body))]
	b32.Encode(b[n:], body)
	return string(b), id, nil
}

// TokenizeBatch tokenizes values in domain, in order. It fails on the
// first value that cannot be tokenized, saying which (by index).
func (t *SIV) TokenizeBatch(ctx context.Context, domain string, values []string) ([]string, error) {
	out := make([]string, len(values))
	for i, v := range values {
		tok, err := t.Tokenize(ctx, domain, v)
		if err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = tok
	}
	return out, nil
}

// Detokenize returns the (normalised) value of a token made in domain, by
// any enabled version of the keyset. SIVOptions.Authorize is asked first.
// Errors: ErrMalformedToken, ErrWrongDomain, ErrUnknownToken (forged,
// tampered, or a version the keyset does not have), ErrDenied, or a kms
// error wrapping kms.ErrDisabled or kms.ErrDestroyed when the token's
// version was disabled or destroyed.
func (t *SIV) Detokenize(ctx context.Context, domain, token string) (string, error) {
	v, id, err := t.detokenize(ctx, domain, token, true)
	if err := t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, domain, id, err); err != nil {
		return "", err
	}
	return v, nil
}

func (t *SIV) detokenize(ctx context.Context, domain, token string, authorize bool) (string, uint32, error) {
	if err := t.checkDomain("detokenize", domain); err != nil {
		return "", 0, err
	}
	if authorize {
		if err := t.authorize(ctx, domain); err != nil {
			return "", 0, err
		}
	}
	p, err := parseSIV(token)
	if err != nil {
		return "", 0, err
	}
	if !tagMatches(p.tag, domain) {
		return "", p.keyID, errf(ErrWrongDomain, "the token's domain tag is not this domain's")
	}
	d, err := t.keys.DeterministicAEAD(ctx, t.keyset)
	if err != nil {
		return "", p.keyID, err
	}
	prefix := tinkPrefix(p.keyID)
	raw := append(prefix[:], p.payload...)
	pt, err := d.DecryptDeterministically(raw, sivAD(domain))
	if err != nil {
		return "", p.keyID, classifyOpen(err)
	}
	return string(pt), p.keyID, nil
}

// DetokenizeBatch detokenizes tokens of domain, in order, asking
// SIVOptions.Authorize once for the batch. It fails on the first token that
// cannot be detokenized, saying which (by index).
func (t *SIV) DetokenizeBatch(ctx context.Context, domain string, tokens []string) ([]string, error) {
	if err := t.checkDomain("detokenize", domain); err != nil {
		return nil, err
	}
	if err := t.authorize(ctx, domain); err != nil {
		return nil, t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, domain, 0, err)
	}
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		v, id, err := t.detokenize(ctx, domain, tok, false)
		if err := t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, domain, id, err); err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = v
	}
	return out, nil
}

// Retokenize returns token re-encrypted under the keyset's primary
// version (the same token if it already is), for the pass that moves
// tokens off an old version after a rotation. It reveals nothing to the
// caller, so SIVOptions.Authorize is not asked; it is audited as a
// tokenization.
func (t *SIV) Retokenize(ctx context.Context, domain, token string) (string, error) {
	v, _, err := t.detokenize(ctx, domain, token, false)
	if err != nil {
		return "", t.finish(ctx, audit.ActionTokenize, "retokenize", t.keyset, domain, 0, err)
	}
	tok, id, err := t.tokenize(ctx, domain, v)
	if err := t.finish(ctx, audit.ActionTokenize, "retokenize", t.keyset, domain, id, err); err != nil {
		return "", err
	}
	return tok, nil
}

// IsToken reports whether value has the grammar of a SIV token of domain
// (without a key: it does not prove that the token opens).
func (t *SIV) IsToken(domain, value string) bool {
	if !validDomain(domain) {
		return false
	}
	p, err := parseSIV(value)
	return err == nil && tagMatches(p.tag, domain)
}

// RecognizesTokens reports whether IsToken tells this tokenizer's tokens
// in domain from values (see HMAC.RecognizesTokens). It is true for SIV
// tokens.
func (t *SIV) RecognizesTokens(domain string) bool { return validDomain(domain) }

func sivAD(domain string) []byte { return []byte(sivLabel + domain) }

func parseSIV(token string) (markedToken, error) {
	p, ok := parseMarked(token, sivPrefix, true, sivMinTokenLen, sivMaxTokenLen)
	if !ok || len(p.payload) < sivMinLen {
		return p, errf(ErrMalformedToken, "not a SIV token (%q followed by a key ID, a domain tag and a ciphertext)", sivPrefix)
	}
	return p, nil
}

// classifyOpen maps a decryption failure to this package's errors: a
// version the key ring does not have and a ciphertext that does not
// authenticate are unknown tokens; disabled and destroyed versions keep
// their kms error.
func classifyOpen(err error) error {
	switch {
	case errors.Is(err, kms.ErrDisabled), errors.Is(err, kms.ErrDestroyed),
		errors.Is(err, kms.ErrUnavailable), errors.Is(err, kms.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, kms.ErrNotFound):
		return errf(ErrUnknownToken, "made by a key version this key ring does not have: %w", err)
	}
	return errf(ErrUnknownToken, "it does not authenticate under any enabled key version")
}
