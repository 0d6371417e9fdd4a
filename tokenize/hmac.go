package tokenize

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/internal/keyedprf"
)

// hmacLabel separates the per-domain HMAC keys from every other use of the
// PRF keyset.
const hmacLabel = "piiguard/tokenize/hmac/v1\x00"

// HMAC makes deterministic, irreversible tokens: a keyed PRF (HMAC-SHA256)
// of the normalised value under a key derived for the domain from a PRF
// keyset (kms.PurposePRF). The same value gives the same token in one
// domain and unrelated tokens in two, which is what joins and distinct
// counts need; nobody, the key holder included, can turn a token back into
// its value except by guessing values and comparing.
//
// Tokens have the grammar "th1_" key-id "_" domain-tag "_" mac (see the
// package documentation). An HMAC is safe for concurrent use.
type HMAC struct {
	base
	keys PRFKeys
	prf  *keyedprf.Deriver // the per-domain keys of the last PRF set keys handed out
}

// NewHMAC returns an HMAC tokenizer over the PRF keyset opts.Keyset
// (default DefaultHMACKeyset) of keys. It makes no call to keys.
func NewHMAC(keys PRFKeys, opts HMACOptions) (*HMAC, error) {
	b := base{kind: "hmac", keyset: opts.Keyset, kinds: opts.Kinds, country: opts.DefaultCountryCode, audit: opts.Audit, clock: opts.Clock}
	if err := b.init(DefaultHMACKeyset); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "nil key source"))
	}
	d, err := keyedprf.New(keyedprf.Scheme{Label: hmacLabel, Bits: 8 * macLen, Encoding: b32, Head: hmacHead})
	if err != nil {
		return nil, b.fail("new", "", err)
	}
	return &HMAC{base: b, keys: keys, prf: d}, nil
}

// hmacHead is the head of the tokens of one version and domain, "th1_"
// key-id "_" domain-tag "_"; it refuses a malformed domain before a key is
// derived for it.
func hmacHead(keyID uint32, domain string) (string, error) {
	if !validDomain(domain) {
		return "", errf(ErrInvalidDomain, "domain names are 1 to 64 characters of [A-Za-z0-9._-]")
	}
	var tag [tagLen]byte
	domainTag(&tag, domain)
	return hmacPrefix + string(appendKeyID(nil, keyID)) + "_" + string(tag[:]) + "_", nil
}

// current returns the per-domain keys of the keyset's current PRF set. The
// key source is asked on every call (a cache lookup, for a kms.Keyring); it
// hands out a new *prf.Set for every change of the keyset, and the keys
// derived from a set are kept for as long as it hands out the same one, so
// a version that left the set stops at once.
func (t *HMAC) current(ctx context.Context) (*keyedprf.Keys, error) {
	set, err := t.keys.PRF(ctx, t.keyset)
	if err != nil {
		return nil, err
	}
	k, err := t.prf.Keys(set)
	if err != nil {
		return nil, errf(ErrKeyVersion, "keyset %q has no PRF set", t.keyset)
	}
	return k, nil
}

// domain returns the key of one version and domain, deriving it on first
// use. It fails with ErrInvalidDomain for a malformed domain and
// ErrUnknownToken if the version is not in the set.
func (t *HMAC) domain(k *keyedprf.Keys, keyID uint32, domain string) (*keyedprf.Key, error) {
	key, err := k.Key(keyID, domain)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, keyedprf.ErrNotEnabled):
		return nil, errf(ErrUnknownToken, "key version %d is not enabled", keyID)
	case errors.Is(err, keyedprf.ErrDerive):
		return nil, errf(ErrKeyVersion, "deriving the domain key with version %d failed", keyID)
	}
	return nil, err
}

// Tokenize returns the token of value in domain, made with the keyset's
// primary version. value is normalised first (see HMACOptions.Kinds).
func (t *HMAC) Tokenize(ctx context.Context, domain, value string) (string, error) {
	tok, id, err := t.tokenize(ctx, domain, value)
	if err == nil && t.audit == nil {
		return tok, nil // nothing to record
	}
	if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err); err != nil {
		return "", err
	}
	return tok, nil
}

func (t *HMAC) tokenize(ctx context.Context, domain, value string) (string, uint32, error) {
	k, err := t.current(ctx)
	if err != nil {
		if verr := t.checkDomain("tokenize", domain); verr != nil {
			return "", 0, verr
		}
		return "", 0, err
	}
	id := k.PrimaryID()
	key, err := t.domain(k, id, domain)
	if err != nil {
		return "", id, err
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return "", id, err
	}
	return key.Text(v), id, nil
}

// TokenizeBatch tokenizes values in domain, in order. It fails on the
// first value that cannot be tokenized, saying which (by index).
//
// The key state and the domain key are looked up once for the whole batch,
// and the tokens are cut from one string, so a batch costs little more
// than the HMACs themselves; a token kept alive keeps that string alive.
func (t *HMAC) TokenizeBatch(ctx context.Context, domain string, values []string) ([]string, error) {
	if len(values) == 0 {
		return []string{}, nil
	}
	k, err := t.current(ctx)
	if err != nil {
		// Let the one-value path classify and report the failure.
		_, err := t.Tokenize(ctx, domain, values[0])
		return nil, batchErr(0, err)
	}
	id := k.PrimaryID()
	key, err := t.domain(k, id, domain)
	if err != nil {
		return nil, batchErr(0, t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err))
	}
	buf := make([]byte, 0, hmacTokenLen*len(values))
	for i, v := range values {
		v, err := t.canonical(domain, v)
		if err == nil {
			buf = key.Append(buf, v)
		}
		if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err); err != nil {
			return nil, batchErr(i, err)
		}
	}
	all := string(buf)
	out := make([]string, len(values))
	for i := range out {
		out[i] = all[i*hmacTokenLen : (i+1)*hmacTokenLen]
	}
	return out, nil
}

// LookupTokens returns the tokens of value in domain under every enabled
// version of the keyset, the primary's first: the terms of a lookup
// (WHERE token IN (…)) that still finds rows tokenized before a rotation.
func (t *HMAC) LookupTokens(ctx context.Context, domain, value string) ([]string, error) {
	if err := t.checkDomain("lookup", domain); err != nil {
		return nil, err
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return nil, t.fail("lookup", domain, err)
	}
	k, err := t.current(ctx)
	if err != nil {
		return nil, t.fail("lookup", domain, err)
	}
	out := make([]string, 0, len(k.Versions()))
	for _, id := range k.Versions() {
		key, err := t.domain(k, id, domain)
		if err != nil {
			return nil, t.fail("lookup", domain, err)
		}
		out = append(out, key.Text(v))
	}
	return out, nil
}

// Match reports whether token is the token of value in domain, under the
// key version the token names, which must be enabled. It is how a token
// made before a rotation is checked against a value. A malformed token, a
// token of another domain or of a version that is not enabled is an
// error, not a mismatch.
func (t *HMAC) Match(ctx context.Context, domain, value, token string) (bool, error) {
	if err := t.checkDomain("match", domain); err != nil {
		return false, err
	}
	p, err := parseHMAC(token)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	if !tagMatches(p.tag, domain) {
		return false, t.fail("match", domain, errf(ErrWrongDomain, "the token's domain tag is not this domain's"))
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	k, err := t.current(ctx)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	key, err := t.domain(k, p.keyID, domain)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	var mac [macLen]byte
	return subtle.ConstantTimeCompare(key.AppendMAC(mac[:0], v), p.payload) == 1, nil
}

// Detokenize always fails with ErrIrreversible (after checking the domain
// and the token's grammar): HMAC tokens cannot be reversed. It exists so
// that an HMAC is a pii.Tokenizer; use SIV, FPE or Vault tokens for values
// that must come back.
func (t *HMAC) Detokenize(ctx context.Context, domain, token string) (string, error) {
	err := t.checkDomain("detokenize", domain)
	if err == nil {
		var p markedToken
		if p, err = parseHMAC(token); err == nil {
			err = errf(ErrIrreversible, "HMAC tokens cannot be reversed; tokenize with SIV, FPE or Vault instead")
			if !tagMatches(p.tag, domain) {
				err = errf(ErrWrongDomain, "the token's domain tag is not this domain's")
			}
		}
	}
	return "", t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, domain, 0, err)
}

// IsToken reports whether value has the grammar of an HMAC token of domain
// (without a key: it does not prove that this keyset made it).
func (t *HMAC) IsToken(domain, value string) bool {
	if !validDomain(domain) {
		return false
	}
	p, err := parseHMAC(value)
	return err == nil && tagMatches(p.tag, domain)
}

// RecognizesTokens reports whether IsToken tells this tokenizer's tokens
// in domain from values, which is what in-place tokenization (package pii)
// needs to stay idempotent. It is true for HMAC tokens.
func (t *HMAC) RecognizesTokens(domain string) bool { return validDomain(domain) }

// Reversible reports false: an HMAC token cannot be turned back into its
// value. pii.Open leaves fields tokenized by an HMAC as they are.
func (t *HMAC) Reversible() bool { return false }

// parseHMAC parses the grammar of an HMAC token.
func parseHMAC(token string) (markedToken, error) {
	p, ok := parseMarked(token, hmacPrefix, true, hmacTokenLen, hmacTokenLen)
	if !ok || len(p.payload) != macLen {
		return p, errf(ErrMalformedToken, "not an HMAC token (%q followed by a key ID, a domain tag and a MAC)", hmacPrefix)
	}
	return p, nil
}

// batchErr says which element of a batch failed.
func batchErr(i int, err error) error {
	if te, ok := err.(*Error); ok {
		c := *te
		c.Op = te.Op + " batch element " + strconv.Itoa(i)
		return &c
	}
	return err
}
