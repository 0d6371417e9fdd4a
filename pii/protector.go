package pii

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// Default keyset names and index width.
const (
	DefaultFieldKeyset  = "pii-fields"
	DefaultSearchKeyset = "pii-search"
	DefaultIndexBits    = 16
)

// Options configures a Protector. The zero value gives the defaults written
// beside each field.
type Options struct {
	// FieldKeyset names the AEAD keyset (kms.PurposeAEAD) that encrypts
	// fields. Default "pii-fields".
	FieldKeyset string
	// SearchKeyset names the PRF keyset (kms.PurposePRF) that computes blind
	// indexes. Default "pii-search".
	SearchKeyset string
	// IndexBits is the length of blind indexes, 1 to 256 bits. Fewer bits
	// mean more false matches (rows a search returns that hold another
	// value) and less leakage (rows with equal indexes need not hold equal
	// values). Choose it from N, the number of distinct values expected:
	// AWS's guidance for beacons is √N < 2^bits < N/2, so for a million
	// customers between 10 and 19 bits. Default 16. Changing it changes
	// every index value: reindex (Open and Seal every record) afterwards.
	IndexBits int
	// DefaultCountryCode is the calling code ("44", "1") given to phone
	// numbers written without one before they are indexed, so that
	// "020 7946 0800" and "+44 20 7946 0800" index equally. Default none:
	// such numbers are indexed by their digits alone.
	DefaultCountryCode string
	// MigrationModeAllowPlaintext makes Open accept plaintext where a
	// protected value belongs and leave it as it is, for reading a database
	// while an existing plaintext column is encrypted row by row. It weakens
	// the guarantee that every protected field is sealed: turn it on for
	// the migration only. A malformed or tampered ciphertext is an error
	// whatever this says.
	MigrationModeAllowPlaintext bool
	// Checker decides, for every protected field Open is about to reveal,
	// whether the principal in the context may see it (access.Allow), may
	// see its mask (access.Mask) or nothing (access.Deny: the field is set
	// to its zero value). Use an *access.Policy, the Cedar adapter of
	// package access/cedaraccess, or a Checker of your own.
	//
	// Required: New fails with ErrNoChecker when it is nil. To run without
	// access control — tests, demos, single-user tools — say so with
	// access.InsecureAllowAll, which reveals everything to anyone, even
	// without a principal in the context.
	Checker access.Checker
	// StrictAccess makes a Deny fail the whole Open (an error wrapping
	// access.ErrDenied that names the field), with the record unchanged,
	// instead of zeroing the denied field. Mask decisions still mask.
	StrictAccess bool
	// Audit receives the events of Open — audit.ActionReveal, one per
	// record and decision (allow, mask, deny), listing the fields that got
	// it (see "Audit" in the package documentation) — and one
	// audit.ActionSearch event per SearchTerms call. Open
	// records its events before it changes the record: if the sink refuses
	// one, Open fails (ErrAudit) and reveals nothing. Nil reports nothing;
	// audit.Discard says so explicitly.
	Audit audit.Sink
	// Tokenizers are the tokenizers that fields tagged token=NAME use, by
	// NAME. The map is copied by New.
	Tokenizers map[string]Tokenizer
}

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
// Two optional methods are honoured: RecognizesTokens(domain) bool — a
// tokenizer that says false for a field's kind is refused for that field
// (ErrNoTokenizer), since Seal could not stay idempotent — and
// Reversible() bool — a tokenizer that says false (HMAC tokens) is never
// asked to Detokenize: Open leaves the token in the field.
//
// Package tokenize provides implementations. Errors must not contain the
// value or the token.
type Tokenizer interface {
	Tokenize(ctx context.Context, domain, value string) (string, error)
	Detokenize(ctx context.Context, domain, token string) (string, error)
	IsToken(domain, value string) bool
}

// keySource is what a Protector needs from a key ring; *kms.Keyring is the
// one implementation outside tests.
type keySource interface {
	AEAD(ctx context.Context, name string) (tink.AEAD, error)
	PRF(ctx context.Context, name string) (*prf.Set, error)
}

// Protector seals, opens and indexes the tagged fields of records. It is
// safe for concurrent use; build one per application and share it.
type Protector struct {
	keys     keySource
	opts     Options
	allowAll bool // opts.Checker is access.InsecureAllowAll
	index    indexCache
}

// New returns a Protector that uses keyring's keysets named in opts. The
// keysets must exist when the Protector first needs them (see
// kms.Admin.Ensure); New makes no call to the key ring. opts.Checker is
// required (ErrNoChecker): pass access.InsecureAllowAll to run without
// access control, deliberately.
func New(keyring *kms.Keyring, opts Options) (*Protector, error) {
	if keyring == nil {
		return nil, errors.New("pii: New: nil keyring")
	}
	return newProtector(keyring, opts)
}

func newProtector(keys keySource, opts Options) (*Protector, error) {
	if opts.Checker == nil {
		return nil, fmt.Errorf("%w: set Options.Checker to an access policy, or to access.InsecureAllowAll to run without access control", ErrNoChecker)
	}
	if opts.FieldKeyset == "" {
		opts.FieldKeyset = DefaultFieldKeyset
	}
	if opts.SearchKeyset == "" {
		opts.SearchKeyset = DefaultSearchKeyset
	}
	if opts.IndexBits == 0 {
		opts.IndexBits = DefaultIndexBits
	}
	if opts.IndexBits < 1 || opts.IndexBits > 256 {
		return nil, fmt.Errorf("pii: New: IndexBits is %d; want 1 to 256", opts.IndexBits)
	}
	if cc := opts.DefaultCountryCode; cc != "" {
		d := cc
		if d[0] == '+' {
			d = d[1:]
		}
		if len(d) < 1 || len(d) > 3 || !isDigits(d) || d[0] == '0' {
			return nil, fmt.Errorf("pii: New: DefaultCountryCode %q is not a calling code such as \"44\"", cc)
		}
		opts.DefaultCountryCode = d
	}
	for name, t := range opts.Tokenizers {
		if t == nil || !isName(name, true) {
			return nil, fmt.Errorf("pii: New: tokenizer %q is nil or badly named", name)
		}
	}
	opts.Tokenizers = maps.Clone(opts.Tokenizers)
	return &Protector{keys: keys, opts: opts, allowAll: isInsecureAllowAll(opts.Checker)}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String describes the Protector without any secret.
func (p *Protector) String() string {
	return fmt.Sprintf("pii.Protector(fields=%s, search=%s, bits=%d)", p.opts.FieldKeyset, p.opts.SearchKeyset, p.opts.IndexBits)
}

// Seal protects the tagged fields of the record record points to: it
// encrypts each into a ciphertext bound to the record type, the field path
// and the record ID, fills blind indexes, and tokenizes token= fields.
// Empty values stay empty; values that are already sealed are left as they
// are after checking that they open in their place (Seal is idempotent).
//
// Seal changes the record only if it succeeds for every field: on error
// the record is as it was. Errors are *FieldError values (for errors.As)
// wrapping this package's sentinels, and never contain a value.
func (p *Protector) Seal(ctx context.Context, record any) error {
	return run(ctx, p, modeSeal, record, false)
}

// Open turns the sealed fields of the record record points to back into
// plaintext, and detokenizes token= fields, as far as Options.Checker lets
// the principal in ctx (see access.WithPrincipal) see them: for each
// non-empty field it asks for an access.ActionReveal decision and sets the
// plaintext (Allow), the kind's Mask (Mask) or the zero value (Deny, or an
// error wrapping access.ErrDenied under Options.StrictAccess). A context
// without a principal is denied. An error from the Checker other than
// access.ErrNoPrincipal fails Open with ErrAccessCheck.
//
// It fails with ErrPlaintext if a field holds plaintext (unless
// Options.MigrationModeAllowPlaintext), and with ErrInvalidCiphertext if a
// value is malformed, tampered with, or was sealed for another record type,
// field or record ID. A value sealed with a disabled or destroyed key
// version fails with an error wrapping kms.ErrDisabled or kms.ErrDestroyed.
// A denied field is not decrypted.
//
// Open changes the record only if it succeeds for every field, and records
// its audit events (one per decision) to Options.Audit first: no audit
// record, no plaintext.
func (p *Protector) Open(ctx context.Context, record any) error {
	return run(ctx, p, modeOpen, record, false)
}

// SealAll seals every record of records: a slice of structs or of pointers
// to structs, or a pointer to an array of them. It changes the records only
// if it succeeds for all of them.
func (p *Protector) SealAll(ctx context.Context, records any) error {
	return run(ctx, p, modeSeal, records, true)
}

// OpenAll opens every record of records, like Open; it changes the
// records only if it succeeds for all of them. Access decisions are shared
// across the records: a question asked again within the call (same field,
// and the same owner, subject and tenant where the Checker reads them —
// see access.RecordInputReporter) is not asked of the Checker again.
func (p *Protector) OpenAll(ctx context.Context, records any) error {
	return run(ctx, p, modeOpen, records, true)
}

// Redact masks the tagged fields of the record record points to, in place
// and without any key, for logs and support screens: plaintext becomes its
// Mask for the field's kind, sealed values become "[sealed]", and blind
// index fields are emptied. The ID and untagged fields are kept. A redacted
// record must not be sealed or stored: its values are masks.
func Redact(record any) error {
	return run(nil, nil, modeRedact, record, false)
}
