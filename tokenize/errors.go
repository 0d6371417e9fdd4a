package tokenize

import (
	"fmt"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
)

// Sentinel errors. Every error returned by this package is an *Error that
// wraps one of them (or a context error, or a kms error for a key that
// cannot be loaded), so callers classify with errors.Is; each wraps one of
// the module's class sentinels, so piiguard.ErrorCode classifies it too
// (ErrDenied is piiguard.ErrDenied itself, as access's denial is). Messages name the
// tokenizer, the operation, the domain, keysets, key IDs, lengths and
// character positions — never a value, a token or key bytes.
var (
	// ErrInvalidDomain: the domain name is malformed (it must be 1 to 64
	// characters of [A-Za-z0-9._-]), or the tokenizer is not configured for
	// it (an FPE tokenizer has a Format per domain). A malformed domain is
	// not named in the message: it may be a value passed by mistake.
	ErrInvalidDomain = errtext.Tagged(piiguard.ErrInvalidArgument, "invalid domain")
	// ErrInvalidOptions: a constructor was given a nil key source, store or
	// format, or an option out of range. It is a programming error.
	ErrInvalidOptions = errtext.Tagged(piiguard.ErrInvalidArgument, "invalid options")
	// ErrInvalidValue: the value cannot be tokenized in its domain: empty
	// after normalisation, larger than MaxValueSize, of a length the format
	// does not allow, or a phone number without a country code.
	ErrInvalidValue = errtext.Tagged(piiguard.ErrInvalidArgument, "invalid value")
	// ErrInvalidCharacter: the value holds a character outside the
	// alphabet of its format (the message gives its 0-based index).
	ErrInvalidCharacter = errtext.Tagged(piiguard.ErrInvalidArgument, "character outside the alphabet")
	// ErrTooShort: the part of the value that format-preserving encryption
	// would encrypt is shorter than FF1's minimum domain (radix^length ≥
	// 1,000,000: 6 digits, 4 base-36 or base-62 characters).
	ErrTooShort = errtext.Tagged(piiguard.ErrInvalidArgument, "value too short for the domain")
	// ErrCheckDigit: a card number fails the Luhn check, or a resident ID
	// its GB 11643 check character, where the format requires a valid one.
	ErrCheckDigit = errtext.Tagged(piiguard.ErrInvalidArgument, "check digit mismatch")
	// ErrMalformedToken: the string is not a token of this tokenizer's
	// grammar (wrong prefix, length, alphabet or encoding, or an FPE token
	// without its marker).
	ErrMalformedToken = errtext.Tagged(piiguard.ErrInvalidArgument, "malformed token")
	// ErrUnknownToken: the token is well formed but this tokenizer did not
	// make it, or can no longer read it: a vaulted token not in the store
	// (never made, or deleted), a reversible token that does not
	// authenticate (forged, tampered, made under another keyset), or a token
	// made by a key version the key ring does not have.
	ErrUnknownToken = errtext.Tagged(piiguard.ErrNotFound, "unknown token")
	// ErrExpiredToken: the vaulted token's time to live has passed.
	ErrExpiredToken = errtext.Tagged(piiguard.ErrNotFound, "expired token")
	// ErrWrongDomain: the token was made in another domain.
	ErrWrongDomain = errtext.Tagged(piiguard.ErrInvalidArgument, "token from another domain")
	// ErrIrreversible: Detokenize was called on an HMAC token, which
	// cannot be reversed by design.
	ErrIrreversible = errtext.Tagged(piiguard.ErrInvalidArgument, "token is irreversible")
	// ErrDenied: the Authorize hook refused the detokenization (the error
	// also wraps the hook's error), or no Authorize hook is configured.
	ErrDenied = piiguard.ErrDenied
	// ErrKeyVersion: the FPE key version cannot be chosen: FPEOptions.KeyID
	// is not an enabled version of the keyset, or it is unset while the
	// keyset has several enabled versions.
	ErrKeyVersion = errtext.Tagged(piiguard.ErrDisabled, "key version unavailable")
	// ErrStore: the token store failed (the message keeps the driver's,
	// which never holds bound values), or holds a row it cannot read.
	ErrStore = errtext.Tagged(piiguard.ErrUnavailable, "token store error")
)

// Error is the error type of this package. It names the tokenizer kind
// ("hmac", "siv", "fpe", "vault"), the operation and the domain, and wraps
// a sentinel. It never holds a value or a token.
type Error struct {
	Kind   string // the tokenizer: "hmac", "siv", "fpe" or "vault"
	Op     string // the operation: "tokenize", "detokenize", "lookup", …
	Domain string // the domain, or "" when it was malformed (never printed then)
	Err    error  // the cause; wraps a sentinel
}

// Error implements error.
func (e *Error) Error() string {
	if e.Domain == "" {
		return fmt.Sprintf("tokenize: %s %s: %v", e.Kind, e.Op, e.Err)
	}
	return fmt.Sprintf("tokenize: %s %s domain %q: %v", e.Kind, e.Op, e.Domain, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errorCode returns the class of err for an audit event: the module's one
// classification (piiguard.ErrorCode).
func errorCode(err error) string { return string(piiguard.ErrorCode(err)) }

// errf builds a cause wrapping sentinel, with a message that must not hold
// values.
func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
