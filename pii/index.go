package pii

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/prf"

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

// indexState holds the index keys derived from one *prf.Set of the search
// keyset. The key ring hands out a new set whenever the keyset changes (a
// rotation, a disable, a destroy, a reload), so a Protector keeps the
// state of the set it was handed last, and starts afresh when it is
// handed another: a version that left the set stops indexing at once.
type indexState struct {
	set      *prf.Set
	ids      []uint32       // the enabled versions: the primary first, then the others ascending
	versions []*versionKeys // in the order of ids
}

// versionKeys holds the index keys of one version, by field.
type versionKeys struct {
	id   uint32
	head string // "bi1.<key id>."

	mu     sync.Mutex                           // serialises writers of fields
	fields atomic.Pointer[map[string]*fieldKey] // by domain; copied on write
}

// fieldKey is the index key of one field under one version, as a pool of
// HMACs keyed with it.
type fieldKey struct {
	head string    // "bi1.<key id>."
	macs sync.Pool // of *fieldMAC
}

type fieldMAC struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// indexKeys returns the index state of the search keyset's current set.
func (p *Protector) indexKeys(ctx context.Context) (*indexState, error) {
	set, err := p.keys.PRF(ctx, p.opts.SearchKeyset)
	if err != nil {
		return nil, err
	}
	if st := p.index.Load(); st != nil && st.set == set {
		return st, nil
	}
	if _, ok := set.PRFs[set.PrimaryID]; !ok {
		return nil, fmt.Errorf("pii: search keyset %q has no enabled primary version", p.opts.SearchKeyset)
	}
	st := &indexState{set: set, ids: []uint32{set.PrimaryID}}
	for id := range set.PRFs {
		if id != set.PrimaryID {
			st.ids = append(st.ids, id)
		}
	}
	slices.Sort(st.ids[1:])
	for _, id := range st.ids {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], id)
		v := &versionKeys{id: id, head: indexPrefix + hex.EncodeToString(b[:]) + "."}
		v.fields.Store(&map[string]*fieldKey{})
		st.versions = append(st.versions, v)
	}
	p.index.Store(st)
	return st, nil
}

// fieldKey returns the index key of one field (domain = record 0x00 path)
// under version keyID, deriving it on first use.
func (st *indexState) fieldKey(keyID uint32, domain []byte) (*fieldKey, error) {
	i := slices.Index(st.ids, keyID)
	if i < 0 {
		return nil, fmt.Errorf("pii: search key version %d is not enabled", keyID)
	}
	v := st.versions[i]
	if fk := (*v.fields.Load())[string(domain)]; fk != nil {
		return fk, nil
	}
	sub, err := st.set.PRFs[keyID].ComputePRF(append([]byte(indexLabel), domain...), 32)
	if err != nil {
		return nil, fmt.Errorf("pii: deriving the index key of version %d failed", keyID)
	}
	fk := &fieldKey{head: v.head}
	fk.macs.New = func() any { return &fieldMAC{h: hmac.New(sha256.New, sub)} }
	v.mu.Lock()
	defer v.mu.Unlock()
	old := *v.fields.Load()
	if existing := old[string(domain)]; existing != nil {
		return existing, nil
	}
	m := make(map[string]*fieldKey, len(old)+1)
	for key, f := range old {
		m[key] = f
	}
	m[string(domain)] = fk
	v.fields.Store(&m)
	return fk, nil
}

// value returns the index value of a normalised value under version
// keyID, as one allocation.
func (st *indexState) value(keyID uint32, domain []byte, norm string, bits int) (string, error) {
	n := (bits + 7) / 8
	out, err := st.appendValue(make([]byte, 0, len(indexPrefix)+9+b64.EncodedLen(n)), keyID, domain, norm, bits)
	if err != nil {
		return "", err
	}
	return bytesToString(out), nil
}

// appendValue appends the index value of a normalised value under
// version keyID to dst.
func (st *indexState) appendValue(dst []byte, keyID uint32, domain []byte, norm string, bits int) ([]byte, error) {
	fk, err := st.fieldKey(keyID, domain)
	if err != nil {
		return nil, err
	}
	m := fk.macs.Get().(*fieldMAC)
	m.h.Reset()
	m.h.Write(stringBytes(norm))
	sum := m.h.Sum(m.sum[:0])
	n := (bits + 7) / 8
	if r := bits % 8; r != 0 {
		sum[n-1] &= byte(0xff << (8 - r))
	}
	dst = append(dst, fk.head...)
	dst = b64.AppendEncode(dst, sum[:n])
	fk.macs.Put(m)
	return dst, nil
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
	out := make([]string, 0, len(st.ids))
	for _, id := range st.ids {
		v, err := st.value(id, sf.domain, norm, p.opts.IndexBits)
		if err != nil {
			return nil, fieldErr(rp.st.name, field, err)
		}
		out = append(out, v)
	}
	if p.sink != nil {
		e := searchEvent(ctx, rp.st.name, field, sf.leaf.class, p.opts.SearchKeyset, st.set.PrimaryID)
		if err := p.sink.Record(ctx, e); err != nil {
			return nil, fieldErr(rp.st.name, field, fmt.Errorf("%w: %w", ErrAudit, err))
		}
	}
	return out, nil
}
