package vaulttransit_test

import (
	"testing"

	"github.com/piiguard/piiguard/kms/kmstest"
)

// BenchmarkDriver measures one Wrap and one Unwrap of a 32-byte data key
// against the in-test Transit server (HTTP on loopback, JSON, base64,
// AES-256-GCM in the server), next to AES-256-GCM on the same bytes in
// process: the ratio is the cost of a call. Real Vault adds its request
// handling, audit devices and network latency.
func BenchmarkDriver(b *testing.B) {
	f := startFakeVault(b, "transit")
	createKey(b, f, "bench", "")
	kmstest.RunDriverBenchmarks(b, newDriver(b, f, "bench"))
}

// BenchmarkKeyring measures getting a keyset's AEAD from a keyring whose
// root key is a Transit key (the in-test server): "Cached" is the steady
// state, which makes no call to Vault; "Cold" reloads the keyset
// (Refresh), which unwraps its data key with Transit.
func BenchmarkKeyring(b *testing.B) {
	f := startFakeVault(b, "transit")
	createKey(b, f, "bench-keyring", "")
	kmstest.RunKeyringBenchmarks(b, newDriver(b, f, "bench-keyring"))
}
