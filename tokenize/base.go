package tokenize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/internal/phone"
)

// base is what every tokenizer shares: its kind, its keyset, and the
// options more than one kind reads (a kind without such an option leaves
// it zero). Each constructor fills it from its own options and calls init.
type base struct {
	kind    string // "hmac", "siv", "fpe", "vault": Error.Kind
	keyset  string
	authz   func(ctx context.Context, domain string) error
	kinds   map[string]string
	country string // DefaultCountryCode: the digits of a calling code, or ""
	audit   audit.Sink
	clock   func() time.Time
}

// init checks the shared options and fills in their defaults.
func (b *base) init(defaultKeyset string) error {
	if b.keyset == "" {
		b.keyset = defaultKeyset
	}
	if b.clock == nil {
		b.clock = time.Now
	}
	if b.country != "" {
		d, ok := phone.CallingCode(b.country)
		if !ok {
			return b.fail("new", "", errf(ErrInvalidOptions, "DefaultCountryCode is not a calling code such as \"44\""))
		}
		b.country = d
	}
	b.kinds = maps.Clone(b.kinds)
	for domain, k := range b.kinds {
		if !validDomain(domain) {
			return b.fail("new", "", errf(ErrInvalidOptions, "Kinds has a malformed domain name"))
		}
		if !knownKind(k) {
			return b.fail("new", domain, errf(ErrInvalidOptions, "Kinds gives the domain the unknown kind %q", k))
		}
	}
	return nil
}

// fail wraps err in an *Error of this tokenizer. A malformed domain is left
// out.
func (b *base) fail(op, domain string, err error) error {
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	if !validDomain(domain) {
		domain = ""
	}
	return &Error{Kind: b.kind, Op: op, Domain: domain, Err: err}
}

// checkDomain validates a domain name.
func (b *base) checkDomain(op, domain string) error {
	if !validDomain(domain) {
		return b.fail(op, "", errf(ErrInvalidDomain, "domain names are 1 to 64 characters of [A-Za-z0-9._-]"))
	}
	return nil
}

// record reports an event to the audit sink, if any.
func (b *base) record(ctx context.Context, action audit.Action, keyset, domain string, keyID uint32, opErr error) error {
	if b.audit == nil {
		return nil
	}
	e := audit.Event{
		Time:    b.clock().UTC(),
		Action:  action,
		Outcome: audit.OutcomeSuccess,
		Field:   domain,
		KeyName: keyset,
		KeyID:   keyID,
	}
	if !validDomain(domain) {
		e.Field = ""
	}
	if opErr != nil {
		e.Outcome = audit.OutcomeFailure
		e.Error = errorCode(opErr)
	}
	return b.audit.Record(ctx, e)
}

// finish records the outcome of one operation on one value and returns
// the error to give the caller: the operation's, or, when it succeeded but
// its event could not be recorded, an error saying so.
func (b *base) finish(ctx context.Context, action audit.Action, op, keyset, domain string, keyID uint32, opErr error) error {
	aerr := b.record(ctx, action, keyset, domain, keyID, opErr)
	if opErr != nil {
		return b.fail(op, domain, opErr)
	}
	if aerr != nil {
		return b.fail(op, domain, fmt.Errorf("the audit event was not recorded: %w", aerr))
	}
	return nil
}

// authorize asks the Authorize hook about a detokenization.
func (b *base) authorize(ctx context.Context, domain string) error {
	if b.authz == nil {
		return errf(ErrDenied, "no Authorize hook is configured (set it, or AllowAll to allow every caller)")
	}
	if err := b.authz(ctx, domain); err != nil {
		return fmt.Errorf("%w: %w", ErrDenied, err)
	}
	return nil
}

// canonical returns the normalised value to tokenize in domain, or an
// error if it is empty or too large.
func (b *base) canonical(domain, value string) (string, error) {
	return checkCanonical(Normalize(b.kindOf(domain), value, b.country))
}

// kindOf returns the kind of domain's values.
func (b *base) kindOf(domain string) string {
	if kind, ok := b.kinds[domain]; ok {
		return kind
	}
	return domain
}

// validDomain reports whether d is 1 to 64 characters of [A-Za-z0-9._-].
func validDomain(d string) bool {
	if d == "" || len(d) > 64 {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
