package tokenize

import (
	"context"
	"time"

	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// Default keyset names, used when an options struct leaves Keyset (and,
// for a Vault, IndexKeyset) empty. Create them with kms.Admin.Ensure and
// the purpose given beside each.
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
// *kms.Keyring implements it. A key source hands out a new *prf.Set
// whenever the keyset changes and never modifies one it has handed out:
// the tokenizers keep what they derived from a set for as long as they are
// given the same pointer.
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

// HMACOptions configures NewHMAC. The zero value gives the defaults written
// beside each field.
type HMACOptions struct {
	// Keyset names the PRF keyset (kms.PurposePRF) the per-domain HMAC keys
	// are derived from. Default DefaultHMACKeyset.
	Keyset string
	// Kinds maps a domain to the kind of value it holds, which selects the
	// normalisation applied before tokenizing, so that values a person
	// calls equal tokenize equally. A domain not in the map whose name is a
	// kind uses that kind; any other domain is "exact". See Normalize for
	// the kinds.
	Kinds map[string]string
	// DefaultCountryCode is the calling code ("44", "+1") given to phone
	// numbers written without one, in domains of kind "phone". Default
	// none: such numbers normalise to their digits.
	DefaultCountryCode string
	// Audit receives an audit.ActionTokenize event for every value
	// tokenized (one per value, batches included), with the domain in
	// Event.Field and the keyset and key version in KeyName and KeyID, and
	// never a value or a token. If the sink fails, the call fails. Nil
	// records nothing.
	Audit audit.Sink
	// Clock gives the time of audit events. Default time.Now.
	Clock func() time.Time
}

// SIVOptions configures NewSIV. The zero value gives the defaults written
// beside each field; note that a nil Authorize refuses every
// detokenization.
type SIVOptions struct {
	// Keyset names the deterministic AEAD keyset
	// (kms.PurposeDeterministicAEAD) that encrypts. Default
	// DefaultSIVKeyset.
	Keyset string
	// Authorize is asked before every detokenization, with the caller's
	// context and the domain; an error refuses it (ErrDenied, wrapping the
	// hook's error). It is the seam for access checks, which this package
	// does not make itself. Nil refuses every detokenization: set it to
	// AllowAll to allow every caller, deliberately (for example when
	// package pii already checks access before Open).
	Authorize func(ctx context.Context, domain string) error
	// Kinds maps a domain to the kind of value it holds, as
	// HMACOptions.Kinds. Detokenize returns the normalised form.
	Kinds map[string]string
	// DefaultCountryCode is the calling code given to phone numbers written
	// without one, as HMACOptions.DefaultCountryCode.
	DefaultCountryCode string
	// Audit receives an audit.ActionTokenize or audit.ActionDetokenize
	// event for every value tokenized or detokenized (one per value,
	// batches included), never holding a value or a token. If the sink
	// fails to record a detokenization, the value is not returned. Nil
	// records nothing.
	Audit audit.Sink
	// Clock gives the time of audit events. Default time.Now.
	Clock func() time.Time
}

// FPEOptions configures NewFPE. The zero value gives the defaults written
// beside each field; note that a nil Authorize refuses every
// detokenization. Format-preserving tokens are normalised by their Format,
// so there is no Kinds.
type FPEOptions struct {
	// Keyset names the PRF keyset (kms.PurposePRF) the FF1 keys are derived
	// from. Default DefaultFPEKeyset.
	Keyset string
	// KeyID pins the version of the keyset that encrypts and decrypts.
	// Format-preserving tokens have no room to say which version made
	// them, so the version is configuration: zero means "the only enabled
	// version", and fails with ErrKeyVersion once the keyset has several.
	// See the package documentation on rotation.
	KeyID uint32
	// Authorize is asked before every detokenization, as
	// SIVOptions.Authorize. Nil refuses every detokenization.
	Authorize func(ctx context.Context, domain string) error
	// DefaultCountryCode is the calling code ("44", "+1") given to phone
	// numbers written without one by the Phone format. Default none: the
	// Phone format refuses such numbers.
	DefaultCountryCode string
	// Audit receives an event for every value tokenized or detokenized, as
	// SIVOptions.Audit.
	Audit audit.Sink
	// Clock gives the time of audit events. Default time.Now.
	Clock func() time.Time
}

// VaultOptions configures NewVault. The zero value gives the defaults
// written beside each field; note that a nil Authorize refuses every
// detokenization.
type VaultOptions struct {
	// Keyset names the AEAD keyset (kms.PurposeAEAD) that encrypts values
	// and metadata. Default DefaultVaultKeyset.
	Keyset string
	// IndexKeyset names the PRF keyset (kms.PurposePRF) of the blind index
	// that makes tokenization idempotent. Default DefaultVaultIndexKeyset.
	IndexKeyset string
	// TTL is the time to live of new tokens when the call gives none
	// (EntryOptions.TTL). Zero means tokens do not expire.
	TTL time.Duration
	// Authorize is asked before every detokenization and lookup, as
	// SIVOptions.Authorize. Nil refuses every detokenization.
	Authorize func(ctx context.Context, domain string) error
	// Kinds maps a domain to the kind of value it holds, as
	// HMACOptions.Kinds. Detokenize returns the normalised form.
	Kinds map[string]string
	// DefaultCountryCode is the calling code given to phone numbers written
	// without one, as HMACOptions.DefaultCountryCode.
	DefaultCountryCode string
	// Audit receives an event for every value tokenized or detokenized, as
	// SIVOptions.Audit, and an audit.ActionErase event for every Delete and
	// Erase.
	Audit audit.Sink
	// Clock is the vault's time: of audit events, of a token's creation
	// and expiry, and of PurgeExpired. Default time.Now.
	Clock func() time.Time
}

// AllowAll is an Authorize hook (SIVOptions, FPEOptions, VaultOptions) that
// allows every detokenization. Using it is a deliberate choice to leave
// access control to the caller.
func AllowAll(context.Context, string) error { return nil }
