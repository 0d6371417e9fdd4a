package kms_test

import (
	"testing"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/piiguard/piiguard/kms"
)

// BenchmarkCachedAEADLookup measures getting a keyset's AEAD once it is
// cached: the price every Seal and Open pays before encrypting.
func BenchmarkCachedAEADLookup(b *testing.B) {
	f := newFixture(b, kms.KeyringOptions{})
	if _, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.kr.AEAD(ctx, "fields"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncrypt compares encrypting 64 bytes through the keyring (lookup
// included) with Tink's AEAD used directly: the ratio of the two is the
// keyring's overhead. It also reports the backend calls made per 100,000
// encryptions.
func BenchmarkEncrypt(b *testing.B) {
	pt := make([]byte, 64)
	ad := []byte("customer/email/42")
	b.Run("keyring", func(b *testing.B) {
		f := newFixture(b, kms.KeyringOptions{})
		if _, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD); err != nil {
			b.Fatal(err)
		}
		f.drv.unwraps.Store(0)
		b.ReportAllocs()
		b.ResetTimer()
		n := 0
		for b.Loop() {
			a, err := f.kr.AEAD(ctx, "fields")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := a.Encrypt(pt, ad); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(f.drv.unwraps.Load())*100_000/float64(n), "backend-calls/100k-ops")
	})
	b.Run("tink", func(b *testing.B) {
		h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
		if err != nil {
			b.Fatal(err)
		}
		a, err := aead.New(h)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := a.Encrypt(pt, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSubjectKeyLookup measures getting a cached subject key.
func BenchmarkSubjectKeyLookup(b *testing.B) {
	f := newFixture(b, kms.KeyringOptions{})
	if _, err := f.kr.SubjectKey(ctx, "customer-1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.kr.SubjectKey(ctx, "customer-1"); err != nil {
			b.Fatal(err)
		}
	}
}
