package pii

import (
	"context"
	"fmt"
)

// Tokenizer replaces a value by a token and back, for fields tagged
// token=NAME: Seal stores Tokenize's token instead of a ciphertext, Open
// stores Detokenize's value. The domain passed is the field's kind
// ("card", "email", …), so that equal values of one kind tokenize equally
// across record types and can be joined.
//
// IsToken must recognise the tokens Tokenize makes (without a key and
// without a network call), so that Seal never tokenizes a token twice and
// Open can tell a token from a plaintext. Format-preserving tokens need a
// marker for this, such as a failing Luhn check digit.
//
// A Tokenizer may also implement TokenRecognizer and
// ReversibilityReporter, which Seal and Open find by type assertion.
//
// Package tokenize provides implementations. Errors must not contain the
// value or the token.
type Tokenizer interface {
	Tokenize(ctx context.Context, domain, value string) (string, error)
	Detokenize(ctx context.Context, domain, token string) (string, error)
	IsToken(domain, value string) bool
}

// TokenRecognizer is implemented by a Tokenizer that knows, per domain,
// whether IsToken can tell its tokens from values. A format-preserving
// token that keeps a valid check digit, say, cannot be told from a card
// number: Seal would tokenize its own tokens again. A field whose kind a
// TokenRecognizer says false for is refused (ErrNoTokenizer), by Seal and
// by Open. A Tokenizer that does not implement it is trusted to recognise
// its tokens in every domain.
type TokenRecognizer interface {
	RecognizesTokens(domain string) bool
}

// ReversibilityReporter is implemented by a Tokenizer that says whether its
// tokens can be turned back into values. Open never asks one that says
// false (HMAC tokens, made to be joined on) to Detokenize: the field keeps
// its token, and no access decision or audit event is made for it, since
// nothing is revealed. A Tokenizer that does not implement it is
// reversible.
type ReversibilityReporter interface {
	Reversible() bool
}

// tokenizerFor returns the tokenizer of ts named by a field's token=, for
// a field of kind k.
func tokenizerFor(ts map[string]Tokenizer, name string, k Kind) (Tokenizer, error) {
	t := ts[name]
	if t == nil {
		return nil, fmt.Errorf("%w: the field is tagged token=%s, but Options.Tokenizers has no %q", ErrNoTokenizer, name, name)
	}
	if r, ok := t.(TokenRecognizer); ok && !r.RecognizesTokens(string(k)) {
		return nil, fmt.Errorf("%w: tokenizer %q cannot tell its %s tokens from values, so tokenizing in place would not be idempotent; use a marked format", ErrNoTokenizer, name, k)
	}
	return t, nil
}

// irreversible reports whether t makes tokens that cannot be turned back
// into values.
func irreversible(t Tokenizer) bool {
	r, ok := t.(ReversibilityReporter)
	return ok && !r.Reversible()
}
