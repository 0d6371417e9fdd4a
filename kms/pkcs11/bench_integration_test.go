//go:build integration

package pkcs11

import (
	"context"
	"testing"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// Benchmarks against SoftHSM2 (make integration, or scripts/integration.sh
// with -run '^$' -bench .). They compare a wrap and an unwrap in the token
// with the same AES-256-GCM in Go, and with the keyring's cached path,
// which is what sealing and opening a field pay in steady state.

func benchDriver(b *testing.B) *Driver {
	h := testToken(b)
	label := uniqueLabel(b, "bench")
	h.destroyKeyAtCleanup(b, label)
	return h.open(b, h.config(label))
}

func BenchmarkSoftHSMWrap(b *testing.B) {
	d := benchDriver(b)
	dk := make([]byte, 32)
	ad := []byte("kms/keyset/fields/aead")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Wrap(context.Background(), dk, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSoftHSMUnwrap(b *testing.B) {
	d := benchDriver(b)
	ad := []byte("kms/keyset/fields/aead")
	ct, err := d.Wrap(context.Background(), make([]byte, 32), ad)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Unwrap(context.Background(), ct, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := d.Unwrap(context.Background(), ct, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("go-aes-gcm", func(b *testing.B) {
		key := make([]byte, 32)
		gcm := referenceGCM(b, key)
		sealed := referenceWrap(b, key, make([]byte, 32), ad)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gcm.Open(nil, sealed[1:13], sealed[13:], gcmAD(ad)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSoftHSMKeyringCachedAEAD is the steady-state price of a field
// encryption's key lookup over an HSM root key: no token call at all.
func BenchmarkSoftHSMKeyringCachedAEAD(b *testing.B) {
	d := benchDriver(b)
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "bench-hsm"})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kms.NewAdmin(kr).Create(context.Background(), "fields", kms.PurposeAEAD); err != nil {
		b.Fatal(err)
	}
	if _, err := kr.AEAD(context.Background(), "fields"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.AEAD(context.Background(), "fields"); err != nil {
			b.Fatal(err)
		}
	}
}
