package tokenize

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tink-crypto/tink-go/v2/prf"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// hmacLabel separates the per-domain HMAC keys from every other use of the
// PRF keyset.
const hmacLabel = "piiguard/tokenize/hmac/v1\x00"

// maxCachedDomains bounds the per-domain keys an HMAC tokenizer keeps per
// keyset state; past it, the cache starts over.
const maxCachedDomains = 4096

// HMAC makes deterministic, irreversible tokens: a keyed PRF (HMAC-SHA256)
// of the normalised value under a key derived for the domain from a PRF
// keyset (kms.PurposePRF). The same value gives the same token in one
// domain and unrelated tokens in two, which is what joins and distinct
// counts need; nobody, the key holder included, can turn a token back into
// its value except by guessing values and comparing.
//
// Tokens have the grammar "th1_" key-id "_" domain-tag "_" mac (see the
// package documentation). An HMAC is safe for concurrent use.
type HMAC struct {
	base
	keys   PRFKeys
	leaser prfLeaser // keys, when it hands out leases (*kms.Keyring)
	state  atomic.Pointer[hmacState]
}

// prfLeaser is a key source that says, for the price of an atomic load,
// whether the PRF set it handed out is still current (kms.Keyring). An
// HMAC over one asks it again only when the lease has ended, instead of on
// every token.
type prfLeaser interface {
	LeasePRF(ctx context.Context, name string) (*prf.Set, kms.Lease, error)
}

// NewHMAC returns an HMAC tokenizer over the PRF keyset opts.Keyset
// (default DefaultHMACKeyset) of keys. It makes no call to keys.
func NewHMAC(keys PRFKeys, opts HMACOptions) (*HMAC, error) {
	b := base{kind: "hmac", keyset: opts.Keyset, kinds: opts.Kinds, country: opts.DefaultCountryCode, audit: opts.Audit, clock: opts.Clock}
	if err := b.init(DefaultHMACKeyset); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "nil key source"))
	}
	t := &HMAC{base: b, keys: keys}
	t.leaser, _ = keys.(prfLeaser)
	return t, nil
}

// hmacState holds the per-domain keys derived from one PRF set. It is
// replaced as soon as the key source hands out another set (after a
// rotation, a disable or a destroy), so a version that left the set stops
// at once. Its maps are copied on write, so that readers take no lock.
type hmacState struct {
	set   *prf.Set
	setID unsafe.Pointer            // identity of set.PRFs
	lease atomic.Pointer[kms.Lease] // on set, from a prfLeaser

	mu      sync.Mutex                              // serialises writers
	primary atomic.Pointer[map[string]*hmacDomain]  // the primary's domains
	others  atomic.Pointer[map[hmacKey]*hmacDomain] // other versions' domains
	last    atomic.Pointer[hmacDomain]              // the primary's last domain used
}

type hmacKey struct {
	id     uint32
	domain string
}

// hmacDomain is one domain under one key version: its tag and a pool of
// HMACs keyed for it.
type hmacDomain struct {
	name string              // the domain
	norm func(string) string // the domain's normalisation; nil for none
	tag  [tagLen]byte
	head [hmacHeadLen]byte // "th1_" key-id "_" tag "_"
	pool sync.Pool         // of *hmacWorker
}

// get returns an HMAC keyed for the domain; put gives it back. A pool
// round trip takes no lock and no atomic read-modify-write in the common
// case (the worker sits in the caller's P), which measured cheaper than a
// mutex-guarded worker.
func (d *hmacDomain) get() *hmacWorker { return d.pool.Get().(*hmacWorker) }

func (d *hmacDomain) put(w *hmacWorker) { d.pool.Put(w) }

const hmacHeadLen = prefixLen + keyIDLen + 1 + tagLen + 1

// hmacSlabTokens is how many single-call tokens share one allocation.
// Allocating each 44-byte token was the largest single cost around the
// HMAC (about 40 ns of 150 on the development machine); sharing one
// 352-byte block between eight tokens takes most of it away, at the price
// that a token kept alive keeps its block (at most seven other tokens,
// never anything secret) alive too.
const hmacSlabTokens = 8

type hmacWorker struct {
	h    hash.Hash
	sum  [sha256.Size]byte
	slab []byte // the unused rest of the worker's current token block
}

// alloc returns room for one token, carved from the worker's block.
func (w *hmacWorker) alloc() []byte {
	if len(w.slab) < hmacTokenLen {
		w.slab = make([]byte, hmacSlabTokens*hmacTokenLen)
	}
	b := w.slab[:hmacTokenLen:hmacTokenLen]
	w.slab = w.slab[hmacTokenLen:]
	return b
}

// current returns the state for the keyset's current PRF set. While the
// key source's lease on the state's set is valid, that is one atomic load
// and no call to the key source.
func (t *HMAC) current(ctx context.Context) (*hmacState, error) {
	if st := t.state.Load(); st != nil {
		if l := st.lease.Load(); l != nil && l.Valid() {
			return st, nil
		}
	}
	return t.reload(ctx)
}

// reload asks the key source for the current PRF set, and makes a new state
// when the set changed.
func (t *HMAC) reload(ctx context.Context) (*hmacState, error) {
	st := t.state.Load()
	var (
		set   *prf.Set
		lease kms.Lease
		err   error
	)
	if t.leaser != nil {
		set, lease, err = t.leaser.LeasePRF(ctx, t.keyset)
	} else {
		set, err = t.keys.PRF(ctx, t.keyset)
	}
	if err != nil {
		return nil, err
	}
	if set == nil {
		return nil, errf(ErrKeyVersion, "keyset %q has no PRF set", t.keyset)
	}
	id := reflect.ValueOf(set.PRFs).UnsafePointer()
	if st == nil || st.set != set || st.setID != id {
		st = &hmacState{set: set, setID: id}
		st.primary.Store(&map[string]*hmacDomain{})
		st.others.Store(&map[hmacKey]*hmacDomain{})
		t.state.Store(st)
	}
	if lease.Valid() {
		l := lease // escapes only here, on the way out of the slow path
		st.lease.Store(&l)
	}
	return st, nil
}

// domain returns the keyed pool of one version and domain, deriving the key
// on first use. It fails with ErrInvalidDomain for a malformed domain and
// ErrUnknownToken if the version is not in the set.
func (t *HMAC) domain(st *hmacState, keyID uint32, domain string) (*hmacDomain, error) {
	if keyID == st.set.PrimaryID {
		if d := st.last.Load(); d != nil && d.name == domain {
			return d, nil
		}
	}
	return t.findDomain(st, keyID, domain)
}

// findDomain is domain past its fast path: a map lookup, or the key
// derivation on first use.
func (t *HMAC) findDomain(st *hmacState, keyID uint32, domain string) (*hmacDomain, error) {
	isPrimary := keyID == st.set.PrimaryID
	if isPrimary {
		if d := (*st.primary.Load())[domain]; d != nil {
			st.last.Store(d) // batches and single-domain callers skip the map
			return d, nil
		}
	} else if d := (*st.others.Load())[hmacKey{keyID, domain}]; d != nil {
		return d, nil
	}
	if err := t.checkDomain("tokenize", domain); err != nil {
		return nil, err
	}
	p, ok := st.set.PRFs[keyID]
	if !ok {
		return nil, errf(ErrUnknownToken, "key version %d is not enabled", keyID)
	}
	key, err := p.ComputePRF([]byte(hmacLabel+domain), 32)
	if err != nil {
		return nil, errf(ErrKeyVersion, "deriving the domain key with version %d failed", keyID)
	}
	d := &hmacDomain{name: domain, norm: normalizer(t.kindOf(domain), t.country)}
	domainTag(&d.tag, domain)
	h := append(d.head[:0], hmacPrefix...)
	h = appendKeyID(h, keyID)
	h = append(h, '_')
	h = append(h, d.tag[:]...)
	_ = append(h, '_')
	d.pool.New = func() any { return &hmacWorker{h: hmac.New(sha256.New, key)} }

	st.mu.Lock()
	defer st.mu.Unlock()
	if isPrimary {
		old := *st.primary.Load()
		if prev := old[domain]; prev != nil {
			return prev, nil
		}
		m := make(map[string]*hmacDomain, len(old)+1)
		if len(old) < maxCachedDomains {
			maps.Copy(m, old)
		}
		m[domain] = d
		st.primary.Store(&m)
		return d, nil
	}
	old := *st.others.Load()
	if prev := old[hmacKey{keyID, domain}]; prev != nil {
		return prev, nil
	}
	m := make(map[hmacKey]*hmacDomain, len(old)+1)
	if len(old) < maxCachedDomains {
		maps.Copy(m, old)
	}
	m[hmacKey{keyID, domain}] = d
	st.others.Store(&m)
	return d, nil
}

// token computes the token of a canonical value, into a share of the
// worker's token block (see hmacSlabTokens).
func (d *hmacDomain) token(value string) string {
	w := d.get()
	tok := d.write(w, w.alloc(), value)
	d.put(w)
	return tok
}

// write computes with w the token of a canonical value into b (of
// hmacTokenLen bytes, never written again) and returns it as a string.
func (d *hmacDomain) write(w *hmacWorker, b []byte, value string) string {
	// compute's body, not a call to it: this is the hot path of every
	// token, and compute is too large to be inlined.
	w.h.Reset()
	w.h.Write(unsafe.Slice(unsafe.StringData(value), len(value)))
	w.h.Sum(w.sum[:0])
	n := copy(b, d.head[:])
	encodeMAC(b[n:], &w.sum)
	return unsafe.String(&b[0], len(b))
}

// compute leaves the HMAC of value in w.sum.
func (w *hmacWorker) compute(value string) {
	w.h.Reset()
	w.h.Write(unsafe.Slice(unsafe.StringData(value), len(value)))
	w.h.Sum(w.sum[:0])
}

// encodeMAC writes the lowercase base32 of the first 16 bytes of sum (26
// characters) into dst: what b32.Encode writes, eight characters at a time.
// The 128 bits are read as two words; each 40-bit group is spread into the
// eight bytes of a word, one 5-bit value per byte, which then become
// alphabet characters all at once: a value v below 26 becomes 'a'+v, the
// others '2'+(v-26).
func encodeMAC(dst []byte, sum *[sha256.Size]byte) {
	out := (*[26]byte)(dst)
	hi := binary.BigEndian.Uint64(sum[0:8])
	lo := binary.BigEndian.Uint64(sum[8:16])
	binary.BigEndian.PutUint64(out[0:8], base32Word(hi>>24))
	binary.BigEndian.PutUint64(out[8:16], base32Word(hi<<16&0xffffff0000|lo>>48))
	binary.BigEndian.PutUint64(out[16:24], base32Word(lo>>8&0xffffffffff))
	last := byte(lo) // 8 bits → 2 characters, the last with 2 zero bits
	out[24] = b32Alphabet[last>>3]
	out[25] = b32Alphabet[(last&7)<<2]
}

// base32Word returns the eight base32 characters of the low 40 bits of v,
// the first in the most significant byte.
func base32Word(v uint64) uint64 {
	// Two 20-bit halves in 32-bit lanes, then 10-bit quarters in 16-bit
	// lanes, then 5-bit values in bytes.
	v = v>>20<<32 | v&0xfffff
	v = (v>>10&0x000003ff000003ff)<<16 | v&0x000003ff000003ff
	v = (v>>5&0x001f001f001f001f)<<8 | v&0x001f001f001f001f
	// No byte carries into the next: every one stays below 0x80+31.
	ge26 := (v + 0x6666666666666666) & 0x8080808080808080 >> 7
	return v + 0x6161616161616161 - ge26*('a'-'2'+26)
}

// mac computes the truncated MAC of a canonical value into dst.
func (d *hmacDomain) mac(dst *[macLen]byte, value string) {
	w := d.get()
	w.compute(value)
	copy(dst[:], w.sum[:macLen])
	d.put(w)
}

// Tokenize returns the token of value in domain, made with the keyset's
// primary version. value is normalised first (see HMACOptions.Kinds).
func (t *HMAC) Tokenize(ctx context.Context, domain, value string) (string, error) {
	tok, id, err := t.tokenize(ctx, domain, value)
	if err == nil && t.audit == nil {
		return tok, nil // nothing to record
	}
	if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err); err != nil {
		return "", err
	}
	return tok, nil
}

func (t *HMAC) tokenize(ctx context.Context, domain, value string) (string, uint32, error) {
	// The hot path: a lease check (else one key source call), the last
	// domain used (else one map lookup; a domain found there is valid),
	// the HMAC and a share of a token block.
	st, err := t.current(ctx)
	if err != nil {
		if verr := t.checkDomain("tokenize", domain); verr != nil {
			return "", 0, verr
		}
		return "", 0, err
	}
	id := st.set.PrimaryID
	d := st.last.Load()
	if d == nil || d.name != domain {
		if d, err = t.findDomain(st, id, domain); err != nil {
			return "", id, err
		}
	}
	if d.norm != nil {
		value = d.norm(value)
	}
	v, err := checkCanonical(value)
	if err != nil {
		return "", id, err
	}
	return d.token(v), id, nil
}

// TokenizeBatch tokenizes values in domain, in order. It fails on the
// first value that cannot be tokenized, saying which (by index).
//
// The key state, the domain key and the HMAC worker are looked up once for
// the whole batch, and the tokens share one allocation, so a batch costs
// little more than the HMACs themselves.
func (t *HMAC) TokenizeBatch(ctx context.Context, domain string, values []string) ([]string, error) {
	if len(values) == 0 {
		return []string{}, nil
	}
	st, err := t.current(ctx)
	if err != nil {
		// Let the one-value path classify and report the failure.
		_, err := t.Tokenize(ctx, domain, values[0])
		return nil, batchErr(0, err)
	}
	id := st.set.PrimaryID
	d, err := t.domain(st, id, domain)
	if err != nil {
		return nil, batchErr(0, t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err))
	}
	out := make([]string, len(values))
	buf := make([]byte, hmacTokenLen*len(values))
	w := d.get()
	defer d.put(w)
	for i, v := range values {
		if d.norm != nil {
			v = d.norm(v)
		}
		v, err := checkCanonical(v)
		if err == nil {
			out[i] = d.write(w, buf[i*hmacTokenLen:(i+1)*hmacTokenLen:(i+1)*hmacTokenLen], v)
		}
		if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, domain, id, err); err != nil {
			return nil, batchErr(i, err)
		}
	}
	return out, nil
}

// LookupTokens returns the tokens of value in domain under every enabled
// version of the keyset, the primary's first: the terms of a lookup
// (WHERE token IN (…)) that still finds rows tokenized before a rotation.
func (t *HMAC) LookupTokens(ctx context.Context, domain, value string) ([]string, error) {
	if err := t.checkDomain("lookup", domain); err != nil {
		return nil, err
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return nil, t.fail("lookup", domain, err)
	}
	st, err := t.current(ctx)
	if err != nil {
		return nil, t.fail("lookup", domain, err)
	}
	ids := make([]uint32, 0, len(st.set.PRFs))
	for id := range st.set.PRFs {
		if id != st.set.PrimaryID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if _, ok := st.set.PRFs[st.set.PrimaryID]; ok {
		ids = append([]uint32{st.set.PrimaryID}, ids...)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		d, err := t.domain(st, id, domain)
		if err != nil {
			return nil, t.fail("lookup", domain, err)
		}
		out = append(out, d.token(v))
	}
	return out, nil
}

// Match reports whether token is the token of value in domain, under the
// key version the token names, which must be enabled. It is how a token
// made before a rotation is checked against a value. A malformed token, a
// token of another domain or of a version that is not enabled is an
// error, not a mismatch.
func (t *HMAC) Match(ctx context.Context, domain, value, token string) (bool, error) {
	if err := t.checkDomain("match", domain); err != nil {
		return false, err
	}
	p, err := parseHMAC(token)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	if !tagMatches(p.tag, domain) {
		return false, t.fail("match", domain, errf(ErrWrongDomain, "the token's domain tag is not this domain's"))
	}
	v, err := t.canonical(domain, value)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	st, err := t.current(ctx)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	d, err := t.domain(st, p.keyID, domain)
	if err != nil {
		return false, t.fail("match", domain, err)
	}
	var mac [macLen]byte
	d.mac(&mac, v)
	return subtle.ConstantTimeCompare(mac[:], p.payload) == 1, nil
}

// Detokenize always fails with ErrIrreversible (after checking the domain
// and the token's grammar): HMAC tokens cannot be reversed. It exists so
// that an HMAC is a pii.Tokenizer; use SIV, FPE or Vault tokens for values
// that must come back.
func (t *HMAC) Detokenize(ctx context.Context, domain, token string) (string, error) {
	err := t.checkDomain("detokenize", domain)
	if err == nil {
		var p markedToken
		if p, err = parseHMAC(token); err == nil {
			err = errf(ErrIrreversible, "HMAC tokens cannot be reversed; tokenize with SIV, FPE or Vault instead")
			if !tagMatches(p.tag, domain) {
				err = errf(ErrWrongDomain, "the token's domain tag is not this domain's")
			}
		}
	}
	return "", t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, domain, 0, err)
}

// IsToken reports whether value has the grammar of an HMAC token of domain
// (without a key: it does not prove that this keyset made it).
func (t *HMAC) IsToken(domain, value string) bool {
	if !validDomain(domain) {
		return false
	}
	p, err := parseHMAC(value)
	return err == nil && tagMatches(p.tag, domain)
}

// RecognizesTokens reports whether IsToken tells this tokenizer's tokens
// in domain from values, which is what in-place tokenization (package pii)
// needs to stay idempotent. It is true for HMAC tokens.
func (t *HMAC) RecognizesTokens(domain string) bool { return validDomain(domain) }

// Reversible reports false: an HMAC token cannot be turned back into its
// value. pii.Open leaves fields tokenized by an HMAC as they are.
func (t *HMAC) Reversible() bool { return false }

// parseHMAC parses the grammar of an HMAC token.
func parseHMAC(token string) (markedToken, error) {
	p, ok := parseMarked(token, hmacPrefix, true, hmacTokenLen, hmacTokenLen)
	if !ok || len(p.payload) != macLen {
		return p, errf(ErrMalformedToken, "not an HMAC token (%q followed by a key ID, a domain tag and a MAC)", hmacPrefix)
	}
	return p, nil
}

// batchErr says which element of a batch failed.
func batchErr(i int, err error) error {
	if te, ok := err.(*Error); ok {
		c := *te
		c.Op = te.Op + " batch element " + strconv.Itoa(i)
		return &c
	}
	return err
}
