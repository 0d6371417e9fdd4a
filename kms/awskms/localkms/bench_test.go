package localkms_test

import (
	"testing"

	"github.com/piiguard/piiguard/kms/kmstest"
)

// BenchmarkDriver measures one Wrap and one Unwrap of a 32-byte data key
// against the in-process local-kms server (HTTP on loopback, SigV4 signing,
// JSON), next to AES-256-GCM on the same bytes in process: the ratio is the
// cost of a call to the service. Real AWS KMS adds network latency.
func BenchmarkDriver(b *testing.B) {
	kmstest.RunDriverBenchmarks(b, newDriver(b, createKey(b, "piiguard bench")))
}

// BenchmarkKeyring measures getting a keyset's AEAD from a keyring whose
// root key is in AWS KMS (local-kms): "Cached" is the steady state, which
// makes no call to the backend; "Cold" reloads the keyset (Refresh), which
// unwraps its data key with AWS KMS.
func BenchmarkKeyring(b *testing.B) {
	kmstest.RunKeyringBenchmarks(b, newDriver(b, createKey(b, "piiguard bench keyring")))
}
