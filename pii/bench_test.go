package pii

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

func benchEnv(b testing.TB, sink audit.Sink) *testEnv {
	env := newEnv(b, Options{Audit: sink})
	if sink == nil {
		env.p.opts.Audit, env.p.sink = nil, nil // newEnv installs a recorder by default
	}
	return env
}

// BenchmarkCustomerSealOpen compares Seal+Open of the Customer (4
// encrypted fields, 1 blind index) with hand-written code doing the same
// work directly with the key ring's Tink AEAD: the same associated data,
// the same "pg1." base64 encoding, and a reused HMAC for the index.
func BenchmarkCustomerSealOpen(b *testing.B) {
	b.Run("piiguard", func(b *testing.B) {
		env := benchEnv(b, nil)
		b.ReportAllocs()
		for b.Loop() {
			c := lucy()
			if err := env.p.Seal(ctx, &c); err != nil {
				b.Fatal(err)
			}
			if err := env.p.Open(ctx, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("piiguard+audit.Discard", func(b *testing.B) {
		env := benchEnv(b, audit.Discard)
		b.ReportAllocs()
		for b.Loop() {
			c := lucy()
			if err := env.p.Seal(ctx, &c); err != nil {
				b.Fatal(err)
			}
			if err := env.p.Open(ctx, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handwritten-tink", func(b *testing.B) {
		env := benchEnv(b, nil)
		hw := newHandwritten(b, env.kr)
		b.ReportAllocs()
		for b.Loop() {
			c := lucy()
			if err := hw.seal(ctx, &c); err != nil {
				b.Fatal(err)
			}
			if err := hw.open(ctx, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// handwritten is what careful code without this package would do.
type handwritten struct {
	kr  *kms.Keyring
	mac hash.Hash
	ad  []byte
}

func newHandwritten(b testing.TB, kr *kms.Keyring) *handwritten {
	ps, err := kr.PRF(ctx, DefaultSearchKeyset)
	require.NoError(b, err)
	sub, err := ps.PRFs[ps.PrimaryID].ComputePRF([]byte(indexLabel+"Customer\x00Email"), 32)
	require.NoError(b, err)
	return &handwritten{kr: kr, mac: hmac.New(sha256.New, sub)}
}

func (h *handwritten) adFor(field, id string) []byte {
	h.ad = append(h.ad[:0], "piiguard/pii/v1\x00Customer\x00"...)
	h.ad = append(h.ad, field...)
	h.ad = append(h.ad, 0)
	h.ad = append(h.ad, id...)
	return h.ad
}

func (h *handwritten) enc(a tink.AEAD, field, id, v string) (string, error) {
	ct, err := a.Encrypt([]byte(v), h.adFor(field, id))
	if err != nil {
		return "", err
	}
	return "pg1." + base64.RawURLEncoding.EncodeToString(ct), nil
}

func (h *handwritten) dec(a tink.AEAD, field, id, v string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, "pg1."))
	if err != nil {
		return "", err
	}
	pt, err := a.Decrypt(raw, h.adFor(field, id))
	return string(pt), err
}

func (h *handwritten) seal(ctx context.Context, c *Customer) (err error) {
	a, err := h.kr.AEAD(ctx, DefaultFieldKeyset)
	if err != nil {
		return err
	}
	var n, e, p, nid string
	if n, err = h.enc(a, "Name", c.ID, c.Name); err != nil {
		return err
	}
	if e, err = h.enc(a, "Email", c.ID, c.Email); err != nil {
		return err
	}
	if p, err = h.enc(a, "Phone", c.ID, c.Phone); err != nil {
		return err
	}
	if nid, err = h.enc(a, "NationalID", c.ID, c.NationalID); err != nil {
		return err
	}
	h.mac.Reset()
	h.mac.Write([]byte(strings.ToLower(strings.TrimSpace(c.Email))))
	var buf [32]byte
	c.EmailIndex = "bi1.00000000." + base64.RawURLEncoding.EncodeToString(h.mac.Sum(buf[:0])[:2])
	c.Name, c.Email, c.Phone, c.NationalID = n, e, p, nid
	return nil
}

func (h *handwritten) open(ctx context.Context, c *Customer) (err error) {
	a, err := h.kr.AEAD(ctx, DefaultFieldKeyset)
	if err != nil {
		return err
	}
	var n, e, p, nid string
	if n, err = h.dec(a, "Name", c.ID, c.Name); err != nil {
		return err
	}
	if e, err = h.dec(a, "Email", c.ID, c.Email); err != nil {
		return err
	}
	if p, err = h.dec(a, "Phone", c.ID, c.Phone); err != nil {
		return err
	}
	if nid, err = h.dec(a, "NationalID", c.ID, c.NationalID); err != nil {
		return err
	}
	c.Name, c.Email, c.Phone, c.NationalID = n, e, p, nid
	return nil
}

// BenchmarkBlindIndexEmail compares computing the blind index of an e-mail
// (normalise, keyed HMAC-SHA256, truncate, encode) with a reused
// HMAC-SHA256 of the same bytes.
func BenchmarkBlindIndexEmail(b *testing.B) {
	const email = "lucy.westenra@example.com"
	// The index computation into a reused buffer, as the raw HMAC writes
	// into one.
	b.Run("piiguard-index-append", func(b *testing.B) {
		env := benchEnv(b, nil)
		var out []byte
		dom := append(append([]byte("Customer"), 0), "Email"...)
		st, err := env.p.indexKeys(ctx)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			key, err := indexKey(st, st.PrimaryID(), dom)
			if err != nil {
				b.Fatal(err)
			}
			out = key.Append(out[:0], env.p.normalizeKind(KindEmail, email))
		}
	})
	// What Seal pays per indexed field, the value as a new string: the key
	// ring is asked for the search keyset once per Seal call (or per SealAll
	// batch), not per field.
	b.Run("piiguard-index-per-field", func(b *testing.B) {
		env := benchEnv(b, nil)
		dom := append(append([]byte("Customer"), 0), "Email"...)
		st, err := env.p.indexKeys(ctx)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := indexValue(st, st.PrimaryID(), dom, env.p.normalizeKind(KindEmail, email)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("piiguard-index-with-keyring-lookup", func(b *testing.B) {
		env := benchEnv(b, nil)
		dom := append(append([]byte("Customer"), 0), "Email"...)
		b.ReportAllocs()
		for b.Loop() {
			st, err := env.p.indexKeys(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := indexValue(st, st.PrimaryID(), dom, env.p.normalizeKind(KindEmail, email)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("piiguard-SearchTerms", func(b *testing.B) {
		env := benchEnv(b, nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.p.SearchTerms(ctx, (*Customer)(nil), "Email", email); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hmac-sha256-reused", func(b *testing.B) {
		m := hmac.New(sha256.New, make([]byte, 32))
		in := []byte(email)
		var buf [32]byte
		b.ReportAllocs()
		for b.Loop() {
			m.Reset()
			m.Write(in)
			m.Sum(buf[:0])
		}
	})
}

// TestSteadyStateMakesNoKMSCalls: once the keysets are cached, sealing,
// opening and searching make no call to the root key's backend.
func TestSteadyStateMakesNoKMSCalls(t *testing.T) {
	env := newEnv(t, Options{})
	warm := lucy()
	require.NoError(t, env.p.Seal(ctx, &warm))
	require.NoError(t, env.p.Open(ctx, &warm))
	_, err := env.p.SearchTerms(ctx, Customer{}, "Email", "x@example.com")
	require.NoError(t, err)
	wraps, unwraps := env.driver.wraps.Load(), env.driver.unwraps.Load()
	assert.Positive(t, unwraps, "the cold path did reach the backend")

	const records = 200
	for i := 0; i < records; i++ {
		c := lucy()
		c.ID = "cus_" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		require.NoError(t, env.p.Seal(ctx, &c))
		require.NoError(t, env.p.Open(ctx, &c))
		_, err := env.p.SearchTerms(ctx, Customer{}, "Email", c.Email)
		require.NoError(t, err)
	}
	assert.Equal(t, wraps, env.driver.wraps.Load(), "no wrap calls for %d records", records)
	assert.Equal(t, unwraps, env.driver.unwraps.Load(), "no unwrap calls for %d records (%d fields)", records, records*4)
}

// openAccessSides returns the two sides of the access target, each
// one Open of the same sealed Customer by the same principal (support,
// after MFA, for a support purpose, so that every field is revealed and
// both sides do the same cryptography):
//
//   - checked: a Policy of nine rules (testdata/access-policy.yaml, with
//     owner-only, same-tenant, purpose and MFA conditions) and an
//     audit.AsyncSink over a discarding sink;
//   - unchecked: access.InsecureAllowAll and audit.Discard, which is Open
//     alone.
//
// The AsyncSink is closed when tb ends.
func openAccessSides(tb testing.TB) (checked, unchecked func() error) {
	return openAccessBatch(tb, 0)
}

// openAccessBatch is openAccessSides for OpenAll of a page of n Customers,
// or for Open of one when n is 0.
func openAccessBatch(tb testing.TB, n int) (checked, unchecked func() error) {
	policy := loadTestPolicy(tb, time.Now)
	// Reveals wait for room in the buffer (Block) rather than fail: a
	// benchmark opens records faster than any real caller, and a consumer
	// descheduled on a busy machine would otherwise make Open fail.
	async := audit.NewAsyncSink(audit.Discard, audit.AsyncOptions{RevealPolicy: audit.Block})
	tb.Cleanup(func() { _ = async.Close(context.Background()) })
	env := newEnv(tb, Options{Checker: policy, Audit: async})
	plain := newEnv(tb, Options{Checker: access.InsecureAllowAll, Audit: audit.Discard})
	plain.p.keys = env.p.keys // the same keys, so either opens the other's records
	sealed := lucy()
	require.NoError(tb, env.p.Seal(ctx, &sealed))
	principal := supportMFA
	principal.Auth.Time = time.Now()
	c := audit.WithRequestID(as(principal, access.PurposeSupport), "req-1")

	for _, p := range []*Protector{env.p, plain.p} {
		r := sealed
		require.NoError(tb, p.Open(c, &r))
		r.EmailIndex = ""
		require.Equal(tb, lucy(), r, "every field is revealed")
	}
	open := func(p *Protector) func() error {
		return func() error {
			r := sealed
			return p.Open(c, &r)
		}
	}
	if n == 0 {
		return open(env.p), open(plain.p)
	}
	page := make([]Customer, n)
	for i := range page {
		page[i] = lucy()
		page[i].ID = "cus_" + strconv.Itoa(1000+i)
	}
	require.NoError(tb, env.p.SealAll(ctx, page))
	openAll := func(p *Protector) func() error {
		rs := make([]Customer, n)
		return func() error {
			copy(rs, page)
			return p.OpenAll(c, rs)
		}
	}
	return openAll(env.p), openAll(plain.p)
}

func benchOp(op func() error) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOpenAccess measures the cost of access control and auditing on
// Open: see openAccessSides. The target is checked ≤ 1.2× unchecked
// (BenchmarkOverheadRatios measures it as a ratio in paired chunks).
func BenchmarkOpenAccess(b *testing.B) {
	checked, unchecked := openAccessSides(b)
	b.Run("policy+async-audit", benchOp(checked))
	b.Run("insecure-allow-all+discard", benchOp(unchecked))
	checked, unchecked = openAccessBatch(b, 50)
	b.Run("OpenAll-50/policy+async-audit", benchOp(checked))
	b.Run("OpenAll-50/insecure-allow-all+discard", benchOp(unchecked))
}

// BenchmarkOpenAllAccess opens 100 owned accounts at a time as their sales
// rep's colleague (masks) with the policy and an async sink: the Memo makes
// one decision per field and owner, not per record.
func BenchmarkOpenAllAccess(b *testing.B) {
	policy := loadTestPolicy(b, time.Now)
	// A batch makes an event per field and record: under a burst the
	// default policy for reveals, Fail, would refuse some; Block waits.
	async := audit.NewAsyncSink(audit.Discard, audit.AsyncOptions{Size: 8192, RevealPolicy: audit.Block})
	defer async.Close(context.Background())
	env := newEnv(b, Options{Checker: policy, Audit: async})
	sealed := make([]CRMAccount, 100)
	for i := range sealed {
		sealed[i] = account("acc_"+strconv.Itoa(i), "rep-"+strconv.Itoa(i%5))
	}
	require.NoError(b, env.p.SealAll(ctx, sealed))
	c := as(rep7, "")
	rs := make([]CRMAccount, len(sealed))
	b.ReportAllocs()
	for b.Loop() {
		copy(rs, sealed)
		if err := env.p.OpenAll(c, rs); err != nil {
			b.Fatal(err)
		}
	}
}
