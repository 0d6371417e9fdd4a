package gcpkms_test

import (
	"testing"

	"github.com/piiguard/piiguard/kms/kmstest"
)

// BenchmarkDriver measures one Wrap and one Unwrap of a 32-byte data key
// against the in-test gRPC server (loopback TCP, HTTP/2, protobuf, CRC32C
// on both sides, AES-256-GCM in the server), next to AES-256-GCM on the
// same bytes in process: the ratio is the cost of a call. Real Cloud KMS
// adds network latency.
func BenchmarkDriver(b *testing.B) {
	f := startFakeKMS(b)
	kmstest.RunDriverBenchmarks(b, newDriver(b, f, f.createKey(b, "bench")))
}

// BenchmarkKeyring measures getting a keyset's AEAD from a keyring whose
// root key is in Cloud KMS (the in-test server): "Cached" is the steady
// state, which makes no call to the backend; "Cold" reloads the keyset
// (Refresh), which unwraps its data key with Cloud KMS.
func BenchmarkKeyring(b *testing.B) {
	f := startFakeKMS(b)
	kmstest.RunKeyringBenchmarks(b, newDriver(b, f, f.createKey(b, "bench-keyring")))
}
