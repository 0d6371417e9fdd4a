package awskms_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

// BenchmarkDriver measures one Wrap and one Unwrap of a 32-byte data key
// against the in-process local-kms server (HTTP on loopback, SigV4 signing,
// JSON), next to AES-256-GCM on the same bytes in process: the ratio is the
// cost of a call to the service. Real AWS KMS adds network latency.
func BenchmarkDriver(b *testing.B) {
	ctx := context.Background()
	d := newDriver(b, createKey(b, "piiguard bench"))
	dataKey := make([]byte, 32)
	ad := []byte("piiguard.keyset.v1\x00fields\x00aead")
	b.Run("Wrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Wrap(ctx, dataKey, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	wrapped, err := d.Wrap(ctx, dataKey, ad)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Unwrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Unwrap(ctx, wrapped, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawAESGCMSeal", func(b *testing.B) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		nonce := make([]byte, gcm.NonceSize())
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(nonce)
			_ = gcm.Seal(nil, nonce, dataKey, ad)
		}
	})
}

// BenchmarkKeyring measures getting a keyset's AEAD from a keyring whose
// root key is in AWS KMS (local-kms): "Cached" is the steady state, which
// makes no call to the backend; "Cold" reloads the keyset (Refresh), which
// unwraps its data key with AWS KMS.
func BenchmarkKeyring(b *testing.B) {
	ctx := context.Background()
	d, err := awskms.New(ctx, createKey(b, "piiguard bench keyring"), testOptions(lk.srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "awskms-bench"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, kms.NewMemoryStore(), kms.KeyringOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer kr.Close()
	if _, err := kr.Create(ctx, "fields", kms.PurposeAEAD); err != nil {
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
