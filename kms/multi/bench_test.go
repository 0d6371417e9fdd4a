package multi_test

import (
	"context"
	"testing"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/multi"
)

// The benchmarks compare a multi root key over two in-memory backends with
// one in-memory backend alone (the overhead of the container, the tag and
// the fan-out), and with the keyring's cached path, which is what sealing
// and opening a field pay in steady state.

func BenchmarkWrap(b *testing.B) {
	dk := make([]byte, 32)
	ad := []byte("kms/keyset/fields/aead")
	for name, d := range benchDrivers(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Wrap(context.Background(), dk, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnwrap(b *testing.B) {
	ad := []byte("kms/keyset/fields/aead")
	for name, d := range benchDrivers(b) {
		ct, err := d.Wrap(context.Background(), make([]byte, 32), ad)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Unwrap(context.Background(), ct, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchDrivers(b *testing.B) map[string]kms.Driver {
	seq, err := multi.New(memoryBackends("a", "b"), multi.Options{})
	if err != nil {
		b.Fatal(err)
	}
	par, err := multi.New(memoryBackends("a", "b"), multi.Options{ParallelUnwrap: true})
	if err != nil {
		b.Fatal(err)
	}
	single := insecuremem.NewDriver()
	b.Cleanup(func() { seq.Close(); par.Close(); single.Close() })
	return map[string]kms.Driver{"multi-2": seq, "multi-2-parallel": par, "memory-1": single}
}

// BenchmarkKeyringCachedAEAD is the steady-state key lookup over a multi
// root key: no backend call.
func BenchmarkKeyringCachedAEAD(b *testing.B) {
	d, err := multi.New(memoryBackends("a", "b"), multi.Options{})
	if err != nil {
		b.Fatal(err)
	}
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "bench-multi"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := kms.NewAdmin(kr).Create(ctx, "fields", kms.PurposeAEAD); err != nil {
		b.Fatal(err)
	}
	if _, err := kr.AEAD(ctx, "fields"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.AEAD(ctx, "fields"); err != nil {
			b.Fatal(err)
		}
	}
}
