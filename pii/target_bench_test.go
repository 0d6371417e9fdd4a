package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// The speed targets of issue 10, each measured as a ratio to what a careful
// engineer writes by hand with the bare primitive for the same result, the
// sides interleaved in one run (see interleave):
//
//	go test -run '^$' -bench 'Targets/(seal|search)' -count 5 ./pii/
//	go test -run '^$' -bench 'Targets/batch' -benchtime 4x -count 3 ./pii/
//
//	seal-open        Seal+Open of a 4-field record ≤ 1.1× hand-written Tink
//	seal-open-split  the same, Seal and Open measured apart
//	batch            SealAll+OpenAll per record at 100,000 records ≤ 1.2× at
//	                 100, and memory per record flat (one iteration is a turn
//	                 of every size, about a second)
//	search-terms     SearchTerms of an e-mail ≤ 1.5× hand-written HMAC
//	open-access      (BenchmarkOverheadRatios) Open with a policy and an
//	                 async sink ≤ 1.2× allow-all + audit.Discard
func BenchmarkTargets(b *testing.B) {
	b.Run("seal-open", benchSealOpenTarget)
	b.Run("seal-open-split", benchSealOpenSplit)
	b.Run("batch", benchBatchTarget)
	b.Run("search-terms", benchSearchTermsTarget)
}

// plainCustomer is the Customer of the seal-open target: four encrypted
// fields, no index; record= keeps its associated data that of "Customer".
type plainCustomer struct {
	ID         string `pii:"id,record=Customer"`
	Name       string `pii:"name"`
	Email      string `pii:"email"`
	Phone      string `pii:"phone"`
	NationalID string `pii:"national_id,class=government_id"`
}

func plainLucy() plainCustomer {
	c := lucy()
	return plainCustomer{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, NationalID: c.NationalID}
}

// handTink is the hand-written side of the seal-open target: a Tink AEAD
// made once from a keyset handle, the associated data in a reused buffer,
// per field Encrypt and "pg1." + base64url written back into the record,
// then decode, Decrypt and write back. It stores the same text as Seal.
type handTink struct {
	a  tink.AEAD
	ad []byte
}

func (h *handTink) adFor(field, id string) []byte {
	h.ad = append(h.ad[:0], "piiguard/pii/v1\x00Customer\x00"...)
	h.ad = append(h.ad, field...)
	h.ad = append(h.ad, 0)
	return append(h.ad, id...)
}

func (h *handTink) enc(field, id, v string) (string, error) {
	ct, err := h.a.Encrypt([]byte(v), h.adFor(field, id))
	if err != nil {
		return "", err
	}
	return "pg1." + base64.RawURLEncoding.EncodeToString(ct), nil
}

func (h *handTink) dec(field, id, v string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, "pg1."))
	if err != nil {
		return "", err
	}
	pt, err := h.a.Decrypt(raw, h.adFor(field, id))
	return string(pt), err
}

func (h *handTink) each(c *plainCustomer, f func(field, id, v string) (string, error)) error {
	var n, e, p, nid string
	var err error
	if n, err = f("Name", c.ID, c.Name); err != nil {
		return err
	}
	if e, err = f("Email", c.ID, c.Email); err != nil {
		return err
	}
	if p, err = f("Phone", c.ID, c.Phone); err != nil {
		return err
	}
	if nid, err = f("NationalID", c.ID, c.NationalID); err != nil {
		return err
	}
	c.Name, c.Email, c.Phone, c.NationalID = n, e, p, nid
	return nil
}

func (h *handTink) sealOpen(c *plainCustomer) error {
	if err := h.each(c, h.enc); err != nil {
		return err
	}
	return h.each(c, h.dec)
}

// benchSealOpenTarget: Seal+Open of plainCustomer, by a Protector over a
// key source handing out the same AEAD (primitive) and by one over a
// *kms.Keyring (keyring: its cache lookup and error classification count
// as overhead), against handTink. No audit sink, allow-all.
func benchSealOpenTarget(b *testing.B) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(b, err)
	a, err := aead.New(h)
	require.NoError(b, err)
	env := benchEnv(b, nil)
	ps, err := env.kr.PRF(ctx, DefaultSearchKeyset)
	require.NoError(b, err)
	prim, err := newProtector(staticKeys{a, ps}, Options{Checker: env.p.opts.Checker})
	require.NoError(b, err)
	hand := &handTink{a: a}

	// The same stored text: each side opens what the other sealed.
	c := plainLucy()
	require.NoError(b, prim.Seal(ctx, &c))
	require.NoError(b, hand.each(&c, hand.dec))
	require.Equal(b, plainLucy(), c)
	require.NoError(b, hand.each(&c, hand.enc))
	require.NoError(b, prim.Open(ctx, &c))
	require.Equal(b, plainLucy(), c)

	pii := func(p *Protector) func() error {
		return func() error {
			c := plainLucy()
			if err := p.Seal(ctx, &c); err != nil {
				return err
			}
			return p.Open(ctx, &c)
		}
	}
	r := interleave(b, 64, []side{
		{name: "hand", f: func() error { c := plainLucy(); return hand.sealOpen(&c) }},
		{name: "pii", f: pii(prim)},
		{name: "pii-keyring", f: pii(env.p)},
	})
	r.report(b, "hand")
}

// benchSealOpenSplit is benchSealOpenTarget with Seal and Open apart, by a
// Protector over the same AEAD as handTink.
func benchSealOpenSplit(b *testing.B) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(b, err)
	a, err := aead.New(h)
	require.NoError(b, err)
	env := benchEnv(b, nil)
	ps, err := env.kr.PRF(ctx, DefaultSearchKeyset)
	require.NoError(b, err)
	p, err := newProtector(staticKeys{a, ps}, Options{Checker: env.p.opts.Checker})
	require.NoError(b, err)
	hand := &handTink{a: a}
	sealed := plainLucy()
	require.NoError(b, p.Seal(ctx, &sealed))
	r := interleave(b, 64, []side{
		{name: "hand-seal", f: func() error { c := plainLucy(); return hand.each(&c, hand.enc) }},
		{name: "pii-seal", f: func() error { c := plainLucy(); return p.Seal(ctx, &c) }},
		{name: "hand-open", f: func() error { c := sealed; return hand.each(&c, hand.dec) }},
		{name: "pii-open", f: func() error { c := sealed; return p.Open(ctx, &c) }},
	})
	r.report(b, "")
	r.ratio(b, "pii-seal", "hand-seal")
	r.ratio(b, "pii-open", "hand-open")
}

// benchBatchTarget: SealAll+OpenAll of pages of n Customers (4 fields and
// an index each), per record, for n from 100 to 100,000, interleaved; the
// ratios are to the page of 100.
func benchBatchTarget(b *testing.B) {
	env := benchEnv(b, nil)
	var sides []side
	for _, n := range []int{100, 1000, 10_000, 100_000} {
		page := make([]Customer, n)
		for i := range page {
			page[i] = lucy()
			page[i].ID = "cus_" + strconv.Itoa(1_000_000+i)
		}
		rs := make([]Customer, n)
		reps := max(1, 10_000/n)
		sides = append(sides, side{name: strconv.Itoa(n), per: n, reps: reps, f: func() error {
			copy(rs, page)
			if err := env.p.SealAll(ctx, rs); err != nil {
				return err
			}
			return env.p.OpenAll(ctx, rs)
		}})
	}
	r := interleave(b, 1, sides)
	r.report(b, "100")
}

// handSearch is the hand-written side of the search-terms target: the
// field's key derived once, one reused HMAC-SHA256, the term trimmed and
// lower-cased, the MAC truncated and encoded as the index format says. It
// returns what SearchTerms returns (the ratio "pii/hand"); termsBase32
// encodes the whole MAC in base32 instead ("pii/hand-base32").
type handSearch struct {
	mac  hash.Hash
	head string
	sum  []byte
}

func newHandSearch(tb testing.TB, set *prf.Set) *handSearch {
	sub, err := set.PRFs[set.PrimaryID].ComputePRF([]byte(indexLabel+"Customer\x00Email"), 32)
	require.NoError(tb, err)
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], set.PrimaryID)
	return &handSearch{mac: hmac.New(sha256.New, sub), head: "bi1." + hex.EncodeToString(id[:]) + "."}
}

// termsBase32 is terms as the issue wrote the baseline: the base32 of the
// whole MAC, a longer value than the index format's.
func (h *handSearch) termsBase32(term string) []string {
	h.mac.Reset()
	h.mac.Write([]byte(strings.ToLower(strings.TrimSpace(term))))
	h.sum = h.mac.Sum(h.sum[:0])
	return []string{base32.StdEncoding.EncodeToString(h.sum)}
}

func (h *handSearch) terms(term string) []string {
	h.mac.Reset()
	h.mac.Write([]byte(strings.ToLower(strings.TrimSpace(term))))
	h.sum = h.mac.Sum(h.sum[:0])
	return []string{h.head + base64.RawURLEncoding.EncodeToString(h.sum[:DefaultIndexBits/8])}
}

func benchSearchTermsTarget(b *testing.B) {
	env := benchEnv(b, audit.Discard)
	set, err := env.kr.PRF(ctx, DefaultSearchKeyset)
	require.NoError(b, err)
	hand := newHandSearch(b, set)
	const email = "Lucy.Westenra@example.com "
	got, err := env.p.SearchTerms(ctx, (*Customer)(nil), "Email", email)
	require.NoError(b, err)
	require.Equal(b, hand.terms(email), got, "the same result")
	var sink []string
	r := interleave(b, 256, []side{
		{name: "hand", f: func() error { sink = hand.terms(email); return nil }},
		{name: "hand-base32", f: func() error { sink = hand.termsBase32(email); return nil }},
		{name: "pii", f: func() (err error) {
			sink, err = env.p.SearchTerms(ctx, (*Customer)(nil), "Email", email)
			return err
		}},
	})
	_ = sink
	r.report(b, "hand")
	r.ratio(b, "pii", "hand-base32")
}

// side is one side of an interleaved benchmark: f does per units of work
// (records), and is run reps times in a row per turn.
type side struct {
	name string
	f    func() error
	per  int // units of work per call; 1 if 0
	reps int // calls per turn; the chunk if 0

	t              time.Duration
	calls          int
	allocs, nbytes uint64
}

type interleaved []side

// interleave runs the sides in turns, each b.Loop iteration one turn of
// every side in a rotating order, so that all sides see the same load of a
// shared machine; it measures time and allocation per unit of work of each.
func interleave(b *testing.B, chunk int, sides []side) interleaved {
	for i := range sides {
		if sides[i].per == 0 {
			sides[i].per = 1
		}
		if sides[i].reps == 0 {
			sides[i].reps = chunk
		}
	}
	var m0, m1 runtime.MemStats
	turn := 0
	b.ReportAllocs()
	for b.Loop() {
		for k := range sides {
			s := &sides[(turn+k)%len(sides)]
			runtime.ReadMemStats(&m0)
			t0 := time.Now()
			for range s.reps {
				if err := s.f(); err != nil {
					b.Fatal(err)
				}
			}
			s.t += time.Since(t0)
			runtime.ReadMemStats(&m1)
			s.calls += s.reps
			s.allocs += m1.Mallocs - m0.Mallocs
			s.nbytes += m1.TotalAlloc - m0.TotalAlloc
		}
		turn++
	}
	return sides
}

func (s *side) perUnit() (ns, allocs, nbytes float64) {
	u := float64(s.calls * s.per)
	return float64(s.t.Nanoseconds()) / u, float64(s.allocs) / u, float64(s.nbytes) / u
}

// report reports every side's time, allocations and bytes per unit of
// work, and each side's time ratio to side base.
func (r interleaved) report(b *testing.B, base string) {
	for i := range r {
		ns, allocs, nbytes := r[i].perUnit()
		b.ReportMetric(ns, r[i].name+"-ns/unit")
		b.ReportMetric(allocs, r[i].name+"-allocs/unit")
		b.ReportMetric(nbytes, r[i].name+"-B/unit")
		if base != "" && r[i].name != base {
			r.ratio(b, r[i].name, base)
		}
	}
}

// ratio reports the time ratio of side a to side base.
func (r interleaved) ratio(b *testing.B, a, base string) {
	var nsA, nsBase float64
	for i := range r {
		switch r[i].name {
		case a:
			nsA, _, _ = r[i].perUnit()
		case base:
			nsBase, _, _ = r[i].perUnit()
		}
	}
	b.ReportMetric(nsA/nsBase, a+"/"+base)
}
