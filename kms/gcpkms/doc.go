// Package gcpkms is a piiguard root key backend over Google Cloud Key
// Management Service: a kms.Driver that wraps and unwraps data keys with the
// Encrypt and Decrypt RPCs of one CryptoKey (purpose ENCRYPT_DECRYPT,
// software or HSM protection level), through the official client library
// cloud.google.com/go/kms/apiv1 over gRPC. The key never leaves Cloud KMS.
// It lives in its own package so that only applications that import it pull
// the Google Cloud client libraries.
//
// # Opening by URI
//
// Register the Opener on a kms.URLMux, then open root keys by URI:
//
//	var mux kms.URLMux
//	mux.Register(gcpkms.Scheme, &gcpkms.Opener{})
//	root, err := mux.OpenRootKey(ctx, "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K")
//
// The URI is the CryptoKey's resource name and takes no parameters. Or call
// New with Options. Wrap encrypts with the key's primary version; Unwrap
// lets Cloud KMS find the version that made the ciphertext, so rotating the
// key in Cloud KMS needs nothing from piiguard (kms.Admin.Rewrap moves
// data keys to the new primary when old versions are to be disabled).
//
// Credentials are Application Default Credentials in production — the
// service account of the workload (GKE Workload Identity, Cloud Run, GCE),
// GOOGLE_APPLICATION_CREDENTIALS, or the gcloud user — or whatever
// Options.ClientOptions say (option.WithCredentialsFile, …). They are never
// read from a URI and never appear in an error, a log line or the driver's
// String, GoString, Format, JSON or slog forms. The caller needs
// cloudkms.cryptoKeyVersions.useToEncrypt and useToDecrypt on the key
// (roles/cloudkms.cryptoKeyEncrypterDecrypter).
//
// # Associated data
//
// Cloud KMS authenticates associated data natively: Wrap and Unwrap pass it
// as additional_authenticated_data (at most 64 KiB; HSM keys take 8 KiB of
// plaintext and associated data together). A wrapped key only opens with
// the associated data it was wrapped with.
//
// # Integrity in transit
//
// As Google recommends, every request carries the CRC32C of its plaintext
// or ciphertext and associated data, and every response is checked: Wrap
// requires verified_plaintext_crc32c and
// verified_additional_authenticated_data_crc32c to be true and the
// ciphertext to match ciphertext_crc32c; Unwrap requires the plaintext to
// match plaintext_crc32c. A mismatch means corruption in transit and fails
// with kms.ErrUnavailable, which kms.RootKey retries a bounded number of
// times.
//
// # Wire format
//
// A wrapped key is the byte 0x01 followed by the Cloud KMS ciphertext. What
// Cloud KMS encrypts is the byte 0x01 followed by the secret, so the
// service is never sent an empty plaintext (a required field) and the
// payload is versioned; a secret is at most MaxPlaintext bytes. Both bytes
// are checked on Unwrap; an unknown outer byte reads as tampering
// (kms.ErrInvalidCiphertext). The format is pinned by TestWireFormat.
//
// # Errors
//
// Every error wraps a kms sentinel and names the key, the RPC, the gRPC code
// and the service's message:
//
//	NOT_FOUND                                  → kms.ErrNotFound
//	PERMISSION_DENIED, UNAUTHENTICATED         → kms.ErrPermissionDenied
//	FAILED_PRECONDITION (version not enabled)  → kms.ErrDisabled
//	    (kms.ErrDestroyed when the version is DESTROYED)
//	INVALID_ARGUMENT on Decrypt                → kms.ErrInvalidCiphertext
//	    (tampered, other key, other associated data)
//	INVALID_ARGUMENT on Encrypt                → kms.ErrInvalidArgument
//	UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL,
//	ABORTED, DEADLINE_EXCEEDED, checksum mismatch → kms.ErrUnavailable
//	anything else                              → kms.ErrBackend
//
// The client library's own retries (UNAVAILABLE for up to a minute) are
// turned off for Encrypt and Decrypt: kms.RootKey retries kms.ErrUnavailable
// with backoff, a bounded number of times. A cancelled or expired context
// gives an error wrapping the context's error; a call interrupted by Close
// fails with kms.ErrClosed.
//
// # How it is tested
//
// There is no Cloud KMS emulator. The tests start a gRPC server in the test
// process, on 127.0.0.1, that implements the KeyManagementService Encrypt
// and Decrypt RPCs as the Cloud KMS reference documents them: real
// AES-256-GCM per key version with the additional authenticated data bound
// to the ciphertext, CRC32C fields checked on requests and set on
// responses, primary versions and rotation, version states, the documented
// size limits, and NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED,
// FAILED_PRECONDITION and INVALID_ARGUMENT statuses with Cloud KMS's
// messages. The real client library talks to it (option.WithEndpoint,
// insecure transport credentials, option.WithoutAuthentication and a bearer
// token the server checks). The package passes kmstest.RunDriverTests, with
// a client per driver and with one shared client; other tests cover
// rotation and disabled or destroyed versions, unknown and forbidden keys,
// corrupted responses and unverified checksums, transient statuses retried
// by kms.RootKey, a stopped server, and URI parsing. Cloud KMS itself (IAM,
// its real ciphertext format, HSM and external keys) is not tested here.
//
// Benchmarks (BenchmarkDriver, BenchmarkKeyring) measure Wrap and Unwrap
// against the in-test server, a raw AES-256-GCM seal for comparison, and
// the cached and cold paths of a kms.Keyring over this backend.
package gcpkms
