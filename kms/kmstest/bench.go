package kmstest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// benchAD is the associated data the benchmarks wrap with: the shape of a
// keyset's.
var benchAD = []byte("piiguard.keyset.v1\x00fields\x00aead")

// RunDriverBenchmarks measures one Wrap and one Unwrap of a 32-byte data
// key with d, next to AES-256-GCM sealing the same bytes in process
// ("RawAESGCMSeal"): the ratio is what one call to the backend costs. A
// backend calls it from its own Benchmark function, with a driver over
// whatever server its tests start.
func RunDriverBenchmarks(b *testing.B, d kms.Driver) {
	ctx := context.Background()
	dataKey := make([]byte, 32)
	b.Run("Wrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Wrap(ctx, dataKey, benchAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	wrapped, err := d.Wrap(ctx, dataKey, benchAD)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Unwrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Unwrap(ctx, wrapped, benchAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawAESGCMSeal", func(b *testing.B) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		block, err := aes.NewCipher(key)
		if err != nil {
			b.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			b.Fatal(err)
		}
		nonce := make([]byte, gcm.NonceSize())
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(nonce)
			_ = gcm.Seal(nil, nonce, dataKey, benchAD)
		}
	})
}

// RunKeyringBenchmarks measures getting a keyset's AEAD from a keyring
// whose root key is d: "Cached" is the steady state, which makes no call to
// the backend; "Cold" reloads the keyset (Refresh), which unwraps its data
// key with the backend. It closes neither d nor anything it did not make.
func RunKeyringBenchmarks(b *testing.B, d kms.Driver) {
	ctx := context.Background()
	root := kms.NewRootKey(nopClose{d}, kms.RootKeyOptions{Name: "bench"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer kr.Close()
	if _, err := kms.NewAdmin(kr).Create(ctx, "fields", kms.PurposeAEAD); err != nil {
		b.Fatal(err)
	}
	b.Run("Cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kr.AEAD(ctx, "fields"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := kr.Refresh(ctx, "fields"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nopClose leaves closing the driver to its owner.
type nopClose struct{ kms.Driver }

func (nopClose) Close() error { return nil }
