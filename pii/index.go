package pii

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"

	"github.com/piiguard/piiguard/internal/keyedprf"
	"github.com/piiguard/piiguard/internal/normalize"
)

// Blind index format, version 1 (documented in doc.go):
//
//	index    = "bi1." key-id "." base64url-unpadded(trunc(HMAC-SHA256(field-key, normalized)))
//	key-id   = 8 lowercase hex digits: the Tink key ID of the search key version
//	field-key = PRF_version("piiguard/pii/blind-index/v1" 0x00 record 0x00 path, 32 bytes)
const (
	indexPrefix = "bi1."
	indexLabel  = "piiguard/pii/blind-index/v1\x00"
)

// newIndexDeriver returns the keyed PRF (internal/keyedprf) of blind
// indexes of bits bits. Its rotation story is the key ring's: a new
// *prf.Set for every change of the search keyset, after which a version
// that left the set stops indexing at once.
func newIndexDeriver(bits int) (*keyedprf.Deriver, error) {
	return keyedprf.New(keyedprf.Scheme{Label: indexLabel, Bits: bits, Encoding: b64, Head: indexHead})
}

// indexHead is "bi1.<key id>.", whatever the field.
func indexHead(keyID uint32, _ string) (string, error) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], keyID)
	return indexPrefix + hex.EncodeToString(b[:]) + ".", nil
}

// indexKeys returns the index keys of the search keyset's current set,
// whose primary must be enabled.
func (p *Protector) indexKeys(ctx context.Context) (*keyedprf.Keys, error) {
	set, err := p.keys.PRF(ctx, p.opts.SearchKeyset)
	if err != nil {
		return nil, err
	}
	k, err := p.index.Keys(set)
	if err == nil && (len(k.Versions()) == 0 || k.Versions()[0] != k.PrimaryID()) {
		err = errors.New("no enabled primary version")
	}
	if err != nil {
		return nil, fmt.Errorf("pii: search keyset %q has no enabled primary version", p.opts.SearchKeyset)
	}
	return k, nil
}

// indexKey returns the index key of one field (domain = record 0x00 path,
// which may be a view of a reused buffer) under version keyID.
func indexKey(k *keyedprf.Keys, keyID uint32, domain []byte) (*keyedprf.Key, error) {
	key, err := k.Key(keyID, bytesToString(domain))
	switch {
	case errors.Is(err, keyedprf.ErrNotEnabled):
		return nil, fmt.Errorf("pii: search key version %d is not enabled", keyID)
	case err != nil:
		return nil, fmt.Errorf("pii: deriving the index key of version %d failed", keyID)
	}
	return key, nil
}

// indexValue returns the index value of a normalised value of a field
// under version keyID, as one allocation.
func indexValue(k *keyedprf.Keys, keyID uint32, domain []byte, norm string) (string, error) {
	key, err := indexKey(k, keyID, domain)
	if err != nil {
		return "", err
	}
	return key.Text(norm), nil
}

// normalizeKind returns the form of a value of kind k that is indexed.
func (p *Protector) normalizeKind(k Kind, s string) string {
	if v, ok := normalize.Apply(string(k), s, p.opts.DefaultCountryCode); ok {
		return v
	}
	return normalize.Fold(s)
}

// Equal reports whether a and b are equal values of kind k as a blind
// index sees them (after the kind's normalisation: e-mail addresses
// case-insensitively, phone numbers in E.164, card numbers by their
// digits, …). Blind indexes are truncated, so rows a search returns may
// hold other values: after opening them, keep those whose field is Equal to
// the search term. Two values that normalise to "" are not equal.
func (p *Protector) Equal(k Kind, a, b string) bool {
	na := p.normalizeKind(k, a)
	return na != "" && na == p.normalizeKind(k, b)
}

// SearchTerms returns the blind index values of term for the field at path
// field ("Email", "Contact.Email", "Addresses[].Postcode") of record's type,
// which must be tagged with search=. record is a value of the record type
// or a pointer to one (a nil pointer will do: only its type is used).
//
// It returns one value per enabled version of the search key, the
// primary's first, so that rows indexed before a rotation are still found:
//
//	terms, err := p.SearchTerms(ctx, (*Customer)(nil), "Email", "lucy@example.com")
//	// SELECT … WHERE email_index IN (terms…)
//
// Indexes are truncated to Options.IndexBits, so a search may return rows
// that hold other values: open them and keep those for which Equal holds.
// A term that normalises to nothing ("", "  ") returns no values.
func (p *Protector) SearchTerms(ctx context.Context, record any, field, term string) ([]string, error) {
	t := reflect.TypeOf(record)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: SearchTerms needs a record type, got %v", ErrInvalidRecord, t)
	}
	rp := planFor(t)
	if rp.err != nil {
		return nil, rp.err
	}
	sf := rp.searchFields()[field]
	if sf == nil {
		return nil, fieldErr(rp.st.name, field, fmt.Errorf("%w: no field at this path is tagged search=", ErrNotSearchable))
	}
	norm := p.normalizeKind(sf.leaf.kind, term)
	if norm == "" {
		return nil, nil
	}
	st, err := p.indexKeys(ctx)
	if err != nil {
		return nil, fieldErr(rp.st.name, field, err)
	}
	out := make([]string, 0, len(st.Versions()))
	for _, id := range st.Versions() {
		v, err := indexValue(st, id, sf.domain, norm)
		if err != nil {
			return nil, fieldErr(rp.st.name, field, err)
		}
		out = append(out, v)
	}
	if p.sink != nil {
		e := searchEvent(ctx, rp.st.name, field, sf.leaf.class, p.opts.SearchKeyset, st.PrimaryID())
		if err := p.sink.Record(ctx, e); err != nil {
			return nil, fieldErr(rp.st.name, field, fmt.Errorf("%w: %w", ErrAudit, err))
		}
	}
	return out, nil
}
