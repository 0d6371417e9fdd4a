package tokenize

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/internal/normalize"
)

// Default keyset names, used when Options.Keyset (and, for a Vault,
// Options.IndexKeyset) is empty. Create them with kms.Admin.Ensure and the
// purpose given beside each.
const (
	DefaultHMACKeyset       = "tokens-hmac"        // kms.PurposePRF
	DefaultSIVKeyset        = "tokens-siv"         // kms.PurposeDeterministicAEAD
	DefaultFPEKeyset        = "tokens-fpe"         // kms.PurposePRF
	DefaultVaultKeyset      = "tokens-vault"       // kms.PurposeAEAD
	DefaultVaultIndexKeyset = "tokens-vault-index" // kms.PurposePRF
)

// MaxValueSize is the largest value, in bytes after normalisation, that a
// tokenizer accepts. Larger values fail with ErrInvalidValue: tokens are for
// identifiers and personal data, not documents.
const MaxValueSize = 64 << 10

// PRFKeys is what the HMAC and FPE tokenizers need from a key ring: the
// PRFs of a keyset, one per enabled version, and its primary's ID.
// *kms.Keyring implements it.
type PRFKeys interface {
	PRF(ctx context.Context, name string) (*prf.Set, error)
}

// DeterministicAEADKeys is what the SIV tokenizer needs from a key ring.
// *kms.Keyring implements it. The primitive must write Tink's 5-byte output
// prefix (0x01 and the key ID), as every keyset kms makes does.
type DeterministicAEADKeys interface {
	DeterministicAEAD(ctx context.Context, name string) (tink.DeterministicAEAD, error)
}

// VaultKeys is what a Vault needs from a key ring: an AEAD keyset for the
// values and a PRF keyset for the blind index. *kms.Keyring implements it.
type VaultKeys interface {
	AEAD(ctx context.Context, name string) (tink.AEAD, error)
	PRFKeys
}

// Options configures a tokenizer. The zero value gives the defaults written
// beside each field; each field says which tokenizers read it.
type Options struct {
	// Keyset names the keyset the tokenizer uses. Default DefaultHMACKeyset,
	// DefaultSIVKeyset, DefaultFPEKeyset or DefaultVaultKeyset.
	Keyset string
	// IndexKeyset (Vault) names the PRF keyset of the blind index that makes
	// tokenization idempotent. Default DefaultVaultIndexKeyset.
	IndexKeyset string
	// Audit receives an audit.ActionTokenize or audit.ActionDetokenize
	// event for every value tokenized or detokenized (one per value, batches
	// included), with the domain in Event.Field, the keyset and key version
	// in KeyName and KeyID, and never a value or a token. If the sink fails
	// to record a detokenization, the value is not returned. Nil records
	// nothing.
	Audit audit.Sink
	// Authorize (SIV, FPE, Vault) is asked before every detokenization, with
	// the caller's context and the domain; an error refuses it (ErrDenied,
	// wrapping the hook's error). It is the seam for access checks, which
	// this package does not make itself. Nil refuses every
	// detokenization: set it to AllowAll to allow every caller, deliberately
	// (for example when package pii already checks access before Open).
	Authorize func(ctx context.Context, domain string) error
	// Kinds (HMAC, SIV, Vault) maps a domain to the kind of value it holds,
	// which selects the normalisation applied before tokenizing, so that
	// values a person calls equal tokenize equally. A domain not in the map
	// whose name is a kind uses that kind. See Normalize for the kinds.
	// Format-preserving tokens normalise by their Format instead.
	Kinds map[string]string
	// DefaultCountryCode is the calling code ("44", "1") given to phone
	// numbers written without one (kind "phone" and the Phone format).
	// Default none: such numbers normalise to their digits, and the Phone
	// format refuses them.
	DefaultCountryCode string
	// FPEKeyID (FPE) pins the version of the FPE keyset that encrypts and
	// decrypts. Format-preserving tokens have no room to say which version
	// made them, so the version is configuration: zero means "the only
	// enabled version", and fails with ErrKeyVersion once the keyset has
	// several. See the package documentation on rotation.
	FPEKeyID uint32
	// TTL (Vault) is the time to live of new tokens when the call gives
	// none. Zero means tokens do not expire.
	TTL time.Duration
	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
}

// AllowAll is an Options.Authorize hook that allows every detokenization.
// Using it is a deliberate choice to leave access control to the caller.
func AllowAll(context.Context, string) error { return nil }

// base is what every tokenizer shares: its kind, keyset and options.
type base struct {
	kind   string
	keyset string
	opts   Options
}

func newBase(kind, defaultKeyset string, opts Options) (base, error) {
	b := base{kind: kind, keyset: opts.Keyset, opts: opts}
	if b.keyset == "" {
		b.keyset = defaultKeyset
	}
	if b.opts.Clock == nil {
		b.opts.Clock = time.Now
	}
	if cc := opts.DefaultCountryCode; cc != "" {
		d := cc
		if d[0] == '+' {
			d = d[1:]
		}
		if len(d) < 1 || len(d) > 3 || !allDigits(d) || d[0] == '0' {
			return b, b.fail("new", "", errf(ErrInvalidOptions, "DefaultCountryCode is not a calling code such as \"44\""))
		}
		b.opts.DefaultCountryCode = d
	}
	for domain, kind := range opts.Kinds {
		if !validDomain(domain) {
			return b, b.fail("new", "", errf(ErrInvalidOptions, "Options.Kinds has a malformed domain name"))
		}
		if !knownKind(kind) {
			return b, b.fail("new", domain, errf(ErrInvalidOptions, "Options.Kinds gives the domain the unknown kind %q", kind))
		}
	}
	if opts.TTL < 0 {
		return b, b.fail("new", "", errf(ErrInvalidOptions, "negative TTL"))
	}
	return b, nil
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
	if b.opts.Audit == nil {
		return nil
	}
	e := audit.Event{
		Time:    b.opts.Clock().UTC(),
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
	return b.opts.Audit.Record(ctx, e)
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

// authorize asks Options.Authorize about a detokenization.
func (b *base) authorize(ctx context.Context, domain string) error {
	if b.opts.Authorize == nil {
		return errf(ErrDenied, "no Options.Authorize hook is configured (set it, or AllowAll to allow every caller)")
	}
	if err := b.opts.Authorize(ctx, domain); err != nil {
		return fmt.Errorf("%w: %w", ErrDenied, err)
	}
	return nil
}

// canonical returns the normalised value to tokenize in domain, or an
// error if it is empty or too large.
func (b *base) canonical(domain, value string) (string, error) {
	return b.canonicalKind(b.kindOf(domain), value)
}

// kindOf returns the kind of domain's values.
func (b *base) kindOf(domain string) string {
	if kind, ok := b.opts.Kinds[domain]; ok {
		return kind
	}
	return domain
}

// canonicalKind is canonical for a domain of kind.
func (b *base) canonicalKind(kind, value string) (string, error) {
	return checkCanonical(Normalize(kind, value, b.opts.DefaultCountryCode))
}

// normalizer returns the normalisation of kind as a function, nil for
// none (exact). The kind is resolved here, once, rather than on every
// value.
func (b *base) normalizer(kind string) func(string) string {
	return normalize.Bound(kind, b.opts.DefaultCountryCode)
}

// checkCanonical refuses empty and oversized canonical values.
func checkCanonical(v string) (string, error) {
	if v == "" {
		return "", errf(ErrInvalidValue, "the value is empty after normalisation")
	}
	if len(v) > MaxValueSize {
		return "", errf(ErrInvalidValue, "%d bytes, more than %d", len(v), MaxValueSize)
	}
	return v, nil
}

// knownKind reports whether kind is one Normalize knows, or KindExact.
func knownKind(kind string) bool {
	return kind == KindExact || normalize.Known(kind)
}

// KindExact is the kind of domains whose values are tokenized exactly as
// given, byte for byte.
const KindExact = "exact"

// Normalize returns value in the canonical form of kind, the form that HMAC,
// SIV and vaulted tokens are made from. The kinds are those of package pii,
// with the same normalisation as its blind indexes:
//
//   - "email": trimmed and lower-cased;
//   - "phone": E.164 ("+442079460800"), with defaultCountry for numbers
//     written without a country code;
//   - "card": the digits alone;
//   - "national_id", "bank_account", "postcode": letters and digits,
//     upper-cased;
//   - "ip": the canonical address text;
//   - "name", "address", "street", "city", "dob", "text": trimmed, white
//     space collapsed, lower-cased;
//   - "exact" and any other string: value unchanged.
//
// Detokenizing returns the canonical form, not the value as first written.
func Normalize(kind, value, defaultCountry string) string {
	v, _ := normalize.Apply(kind, value, defaultCountry)
	return v
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

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
