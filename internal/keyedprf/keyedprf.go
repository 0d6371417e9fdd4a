package keyedprf

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tink-crypto/tink-go/v2/prf"
)

// Errors of Keys.Key, for errors.Is.
var (
	// ErrNotEnabled: the set holds no PRF of the key version asked for (it
	// was never in the keyset, or was disabled or destroyed).
	ErrNotEnabled = errors.New("keyedprf: key version not enabled")
	// ErrDerive: the version's PRF could not derive a 32-byte key.
	ErrDerive = errors.New("keyedprf: deriving the key failed")
	// ErrNoSet: Deriver.Keys was given a nil set.
	ErrNoSet = errors.New("keyedprf: no PRF set")
)

// keyLen is the length of a derived key: that of HMAC-SHA256's output.
const keyLen = 32

// maxDomains bounds the keys a Keys caches per kind (the primary's, the
// other versions'); past it, that cache starts over. Blind indexes have a
// domain per searchable field, tokens one per token domain: real callers
// stay far below it.
const maxDomains = 4096

// Encoding turns a truncated MAC into text; *base64.Encoding and
// *base32.Encoding are Encodings.
type Encoding interface {
	AppendEncode(dst, src []byte) []byte
	EncodedLen(n int) int
}

// Scheme is what one user of a PRF keyset makes of it.
type Scheme struct {
	// Label is written before the domain in the input of the PRF that
	// derives a domain's key; it must differ between users of one keyset
	// (end it with a 0x00, so that no label is a prefix of another).
	Label string
	// Bits is the number of leading bits of the HMAC-SHA256 kept, 1 to
	// 256; the unused bits of the last byte are zero.
	Bits int
	// Encoding encodes the kept bytes.
	Encoding Encoding
	// Head returns the text written before the encoded MAC of version
	// keyID in domain, or an error refusing the domain (then no key is
	// derived). It is called before each key is derived, with a copy of
	// the domain that it may keep.
	Head func(keyID uint32, domain string) (string, error)
}

// Deriver derives the keys of one Scheme from the PRF sets it is given,
// keeping those of the last set. It is safe for concurrent use.
type Deriver struct {
	s    Scheme
	n    int  // MAC bytes kept
	mask byte // of the last kept byte
	cur  atomic.Pointer[Keys]
}

// New returns a Deriver of scheme s. It fails if s is incomplete or its
// Bits out of range.
func New(s Scheme) (*Deriver, error) {
	if s.Label == "" || s.Encoding == nil || s.Head == nil {
		return nil, errors.New("keyedprf: the scheme needs a label, an encoding and a head")
	}
	if s.Bits < 1 || s.Bits > 8*sha256.Size {
		return nil, fmt.Errorf("keyedprf: %d bits; want 1 to %d", s.Bits, 8*sha256.Size)
	}
	d := &Deriver{s: s, n: (s.Bits + 7) / 8, mask: 0xff}
	if r := s.Bits % 8; r != 0 {
		d.mask = byte(0xff << (8 - r))
	}
	return d, nil
}

// Keys returns the keys derived from set: the same *Keys for as long as it
// is given the same set, new ones (derived afresh, on use) as soon as it is
// given another. A key source hands out a new set for every change of the
// keyset and never modifies one it handed out; so a version that left the
// set is not used again after the first call with the new set.
func (d *Deriver) Keys(set *prf.Set) (*Keys, error) {
	if k := d.cur.Load(); k != nil && k.set == set {
		return k, nil
	}
	return d.replace(set)
}

func (d *Deriver) replace(set *prf.Set) (*Keys, error) {
	if set == nil {
		return nil, ErrNoSet
	}
	k := &Keys{d: d, set: set}
	if _, ok := set.PRFs[set.PrimaryID]; ok {
		k.versions = append(k.versions, set.PrimaryID)
	}
	others := make([]uint32, 0, len(set.PRFs))
	for id := range set.PRFs {
		if id != set.PrimaryID {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	k.versions = append(k.versions, others...)
	k.primary.Store(&map[string]*Key{})
	k.others.Store(&map[versionDomain]*Key{})
	d.cur.Store(k)
	return k, nil
}

// Keys are the keys a Deriver derives from one PRF set, each on first use.
// They are safe for concurrent use.
type Keys struct {
	d        *Deriver
	set      *prf.Set
	versions []uint32 // enabled: the primary first (if enabled), the others ascending

	// Keys are mostly asked of the primary, so its keys have a map of
	// their own, keyed by domain alone. Both maps are copied on write, so
	// that finding a key takes an atomic load and a map lookup, no lock.
	primary atomic.Pointer[map[string]*Key]
	others  atomic.Pointer[map[versionDomain]*Key]
	mu      sync.Mutex // serialises writers
}

type versionDomain struct {
	id     uint32
	domain string
}

// PrimaryID returns the ID of the set's primary version.
func (k *Keys) PrimaryID() uint32 { return k.set.PrimaryID }

// Versions returns the IDs of the enabled versions: the primary's first
// (when it is enabled), then the others in ascending order — the versions
// a lookup must try to find values made before a rotation. The slice is
// shared: do not modify it.
func (k *Keys) Versions() []uint32 { return k.versions }

// Key returns the key of version keyID for domain, deriving it on first
// use. Key does not keep domain (a derived key keeps a copy), so a caller
// may pass a view of a buffer it reuses.
func (k *Keys) Key(keyID uint32, domain string) (*Key, error) {
	if keyID == k.set.PrimaryID {
		if key := (*k.primary.Load())[domain]; key != nil {
			return key, nil
		}
	} else if key := (*k.others.Load())[versionDomain{keyID, domain}]; key != nil {
		return key, nil
	}
	return k.derive(keyID, domain)
}

func (k *Keys) derive(keyID uint32, domain string) (*Key, error) {
	domain = strings.Clone(domain)
	head, err := k.d.s.Head(keyID, domain)
	if err != nil {
		return nil, err
	}
	p, ok := k.set.PRFs[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: version %d", ErrNotEnabled, keyID)
	}
	sub, err := p.ComputePRF([]byte(k.d.s.Label+domain), keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: version %d", ErrDerive, keyID)
	}
	key := &Key{head: head, d: k.d, len: len(head) + k.d.s.Encoding.EncodedLen(k.d.n)}
	key.macs.New = func() any { return &worker{h: hmac.New(sha256.New, sub)} }

	k.mu.Lock()
	defer k.mu.Unlock()
	if keyID == k.set.PrimaryID {
		m := *k.primary.Load()
		if prev := m[domain]; prev != nil {
			return prev, nil
		}
		k.primary.Store(copyAdd(m, domain, key))
	} else {
		vd := versionDomain{keyID, domain}
		m := *k.others.Load()
		if prev := m[vd]; prev != nil {
			return prev, nil
		}
		k.others.Store(copyAdd(m, vd, key))
	}
	return key, nil
}

// copyAdd returns a copy of m with kk set to v; past maxDomains entries,
// the copy starts empty.
func copyAdd[K comparable](m map[K]*Key, kk K, v *Key) *map[K]*Key {
	c := make(map[K]*Key, min(len(m), maxDomains)+1)
	if len(m) < maxDomains {
		maps.Copy(c, m)
	}
	c[kk] = v
	return &c
}

// Key is the key of one version and domain, as a pool of HMACs keyed with
// it. It is safe for concurrent use.
type Key struct {
	head string
	d    *Deriver
	len  int       // of an output
	macs sync.Pool // of *worker
}

// worker is an HMAC with room for its output, so that a MAC allocates
// nothing.
type worker struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// Head returns the text written before the key's encoded MACs.
func (k *Key) Head() string { return k.head }

// Len returns the length of the key's output: the head and the encoded MAC.
func (k *Key) Len() int { return k.len }

// AppendMAC appends the truncated MAC of msg (Scheme.Bits, rounded up to
// whole bytes, the unused bits zero) to dst.
func (k *Key) AppendMAC(dst []byte, msg string) []byte {
	w := k.mac(msg)
	dst = append(dst, w.sum[:k.d.n]...)
	k.macs.Put(w)
	return dst
}

// Append appends the output of msg, the head and the encoded truncated
// MAC, to dst.
func (k *Key) Append(dst []byte, msg string) []byte {
	w := k.mac(msg)
	dst = append(dst, k.head...)
	dst = k.d.s.Encoding.AppendEncode(dst, w.sum[:k.d.n])
	k.macs.Put(w)
	return dst
}

// Text returns the output of msg as a new string, one allocation.
func (k *Key) Text(msg string) string {
	b := k.Append(make([]byte, 0, k.len), msg)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// mac computes the truncated MAC of msg into a worker's sum, and leaves
// the worker's HMAC reset: it keeps no part of msg.
func (k *Key) mac(msg string) *worker {
	w := k.macs.Get().(*worker)
	w.h.Write(unsafe.Slice(unsafe.StringData(msg), len(msg))) // read only
	w.h.Sum(w.sum[:0])
	w.h.Reset()
	w.sum[k.d.n-1] &= k.d.mask
	return w
}
