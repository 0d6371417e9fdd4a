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
	"unsafe"

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

// indexCache holds the per-field HMAC keys derived from the current PRF set.
// Derived keys are dropped as soon as the key ring hands out another set
// (after a rotation, a disable or a destroy), so a version that left the set
// stops indexing at once.
type indexCache struct {
	state atomic.Pointer[indexState]
}

type indexState struct {
	set      *prf.Set
	setID    unsafe.Pointer // identity of set.PRFs
	ids      []uint32       // primary first, then the others ascending
	versions []*versionKeys // in the order of ids
}

// versionKeys holds the derived index keys of one version, by field.
type versionKeys struct {
	id   uint32
	head string // "bi1.<key id>."

	mu     sync.Mutex                           // serialises writers of fields
	fields atomic.Pointer[map[string]*fieldKey] // copy on write, by domain
	last   atomic.Pointer[fieldKey]             // the field last looked up
}

// fieldKey is the index key of one field under one version, as a pool of
// HMACs keyed with it.
type fieldKey struct {
	domain string    // record 0x00 path
	hmacs  sync.Pool // of hash.Hash
	head   string    // "bi1.<key id>."
}

func (p *Protector) indexKeys(ctx context.Context) (*indexState, error) {
	set, err := p.keys.PRF(ctx, p.opts.SearchKeyset)
	if err != nil {
		return nil, err
	}
	id := reflect.ValueOf(set.PRFs).UnsafePointer()
	if st := p.index.state.Load(); st != nil && st.set == set && st.setID == id {
		return st, nil
	}
	if _, ok := set.PRFs[set.PrimaryID]; !ok {
		return nil, fmt.Errorf("pii: search keyset %q has no enabled primary version", p.opts.SearchKeyset)
	}
	ids := make([]uint32, 0, len(set.PRFs))
	for k := range set.PRFs {
		if k != set.PrimaryID {
			ids = append(ids, k)
		}
	}
	slices.Sort(ids)
	st := &indexState{set: set, setID: id, ids: append([]uint32{set.PrimaryID}, ids...)}
	for _, k := range st.ids {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], k)
		v := &versionKeys{id: k, head: indexPrefix + hex.EncodeToString(b[:]) + "."}
		v.fields.Store(&map[string]*fieldKey{})
		st.versions = append(st.versions, v)
	}
	p.index.state.Store(st)
	return st, nil
}

// fieldKey returns the index key of one field (domain = record 0x00 path)
// under one version, deriving it on first use.
func (st *indexState) fieldKey(keyID uint32, domain []byte) (*fieldKey, error) {
	var v *versionKeys
	for _, c := range st.versions {
		if c.id == keyID {
			v = c
			break
		}
	}
	if v == nil {
		return nil, fmt.Errorf("pii: search key version %d is not enabled", keyID)
	}
	// A record type with one indexed field (or a batch of one type)
	// looks up the same field again and again: compare before hashing.
	if fk := v.last.Load(); fk != nil && fk.domain == string(domain) {
		return fk, nil
	}
	if fk := (*v.fields.Load())[string(domain)]; fk != nil {
		v.last.Store(fk)
		return fk, nil
	}
	sub, err := st.set.PRFs[keyID].ComputePRF(append([]byte(indexLabel), domain...), 32)
	if err != nil {
		return nil, fmt.Errorf("pii: deriving the index key of version %d failed", keyID)
	}
	fk := &fieldKey{domain: string(domain), head: v.head}
	fk.hmacs.New = func() any { return hmac.New(sha256.New, sub) }
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

// compute returns the index value of a normalised value under one version.
func (st *indexState) compute(keyID uint32, domain []byte, norm string, bits int, scratch *[]byte) (string, error) {
	n := (bits + 7) / 8
	out, err := st.appendIndex(make([]byte, 0, len(indexPrefix)+9+b64.EncodedLen(n)), keyID, domain, norm, bits, scratch)
	if err != nil {
		return "", err
	}
	return bytesToString(out), nil
}

// appendIndex appends the index value of a normalised value under one
// version to dst. scratch holds the HMAC output.
func (st *indexState) appendIndex(dst []byte, keyID uint32, domain []byte, norm string, bits int, scratch *[]byte) ([]byte, error) {
	fk, err := st.fieldKey(keyID, domain)
	if err != nil {
		return nil, err
	}
	h := fk.hmacs.Get().(hash.Hash)
	h.Reset()
	h.Write(unsafe.Slice(unsafe.StringData(norm), len(norm)))
	sum := h.Sum((*scratch)[:0])
	*scratch = sum
	fk.hmacs.Put(h)
	n := (bits + 7) / 8
	if r := bits % 8; r != 0 {
		sum[n-1] &= byte(0xff << (8 - r))
	}
	dst = append(dst, fk.head...)
	return b64.AppendEncode(dst, sum[:n]), nil
}

// appendDomain appends the index domain of a field: record 0x00 path.
func appendDomain(dst []byte, record string, path []byte, seg string) []byte {
	dst = append(dst, record...)
	dst = append(dst, 0)
	return appendPath(dst, path, seg)
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
	domain := append(append([]byte(rp.st.name), 0), field...)
	var scratch []byte
	out := make([]string, 0, len(st.ids))
	for _, id := range st.ids {
		v, err := st.compute(id, domain, norm, p.opts.IndexBits, &scratch)
		if err != nil {
			return nil, fieldErr(rp.st.name, field, err)
		}
		out = append(out, v)
	}
	if p.opts.Audit != nil {
		e := searchEvent(ctx, rp.st.name, field, sf.leaf.class, p.opts.SearchKeyset, st.set.PrimaryID)
		if err := p.opts.Audit.Record(ctx, e); err != nil {
			return nil, fieldErr(rp.st.name, field, fmt.Errorf("%w: %w", ErrAudit, err))
		}
	}
	return out, nil
}
