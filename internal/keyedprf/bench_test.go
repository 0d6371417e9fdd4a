package keyedprf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

var benchOut string

// BenchmarkText compares a keyed PRF output, the keys found again from the
// set (as every caller does per call), with a reused HMAC-SHA256 under the
// same key and the same encoding written by hand: the ratio is the
// package's overhead.
func BenchmarkText(b *testing.B) {
	m, ids := versions(b, 1)
	set := setOf(b, m)
	d, err := New(testScheme(128))
	if err != nil {
		b.Fatal(err)
	}
	const domain, msg = "Customer\x00Email", "lucy.westenra@example.com"
	b.Run("keyedprf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := d.Keys(set)
			if err != nil {
				b.Fatal(err)
			}
			key, err := k.Key(k.PrimaryID(), domain)
			if err != nil {
				b.Fatal(err)
			}
			benchOut = key.Text(msg)
		}
	})
	b.Run("hand", func(b *testing.B) {
		key, err := set.PRFs[ids[0]].ComputePRF([]byte("piiguard/test/v1\x00"+domain), 32)
		if err != nil {
			b.Fatal(err)
		}
		h := hmac.New(sha256.New, key)
		head := "t1." + "x" + "."
		var sum [32]byte
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			h.Write([]byte(msg))
			benchOut = head + base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:16])
		}
	})
}
