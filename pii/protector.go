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
	"github.com/piiguard/piiguard/internal/keyedprf"
	"github.com/piiguard/piiguard/internal/phone"
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
	// audit.Discard says so explicitly (and, like nil, builds no event).
	Audit audit.Sink
	// Tokenizers are the tokenizers that fields tagged token=NAME use, by
	// NAME. The map is copied by New.
	Tokenizers map[string]Tokenizer
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
	keys  keySource
	opts  Options
	sink  audit.Sink        // opts.Audit, or nil for none or audit.Discard: nil builds no events
	index *keyedprf.Deriver // the blind index keys of the search keyset (index.go)
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
		d, ok := phone.CallingCode(cc)
		if !ok {
			// The option is named, not quoted: a value in the wrong place
			// (a phone number for a code) would be personal data.
			return nil, errors.New("pii: New: Options.DefaultCountryCode is not a calling code such as \"44\"")
		}
		opts.DefaultCountryCode = d
	}
	for name, t := range opts.Tokenizers {
		if t == nil || !isName(name, true) {
			return nil, fmt.Errorf("pii: New: tokenizer %q is nil or badly named", name)
		}
	}
	opts.Tokenizers = maps.Clone(opts.Tokenizers)
	index, err := newIndexDeriver(opts.IndexBits)
	if err != nil {
		return nil, fmt.Errorf("pii: New: %w", err)
	}
	p := &Protector{keys: keys, opts: opts, sink: opts.Audit, index: index}
	if p.sink == audit.Discard {
		p.sink = nil
	}
	return p, nil
}

// String describes the Protector without any secret.
func (p *Protector) String() string {
	return fmt.Sprintf("pii.Protector(fields=%s, search=%s, bits=%d)", p.opts.FieldKeyset, p.opts.SearchKeyset, p.opts.IndexBits)
}
