// Package awskms is a piiguard root key backend over AWS Key Management
// Service: a kms.Driver that wraps and unwraps data keys with the Encrypt
// and Decrypt calls of one symmetric KMS key (SYMMETRIC_DEFAULT), through
// the AWS SDK for Go v2. The key never leaves AWS KMS. It lives in its own
// package so that only applications that import it pull the AWS SDK.
//
// # Opening by URI
//
// Register the Opener on a kms.URLMux, then open root keys by URI:
//
//	var mux kms.URLMux
//	mux.Register(awskms.Scheme, &awskms.Opener{})
//	root, err := mux.OpenRootKey(ctx, "awskms://alias/piiguard-root?region=eu-west-1")
//
// The URI names a key ID (awskms://1234abcd-12ab-34cd-56ef-1234567890ab),
// an alias (awskms://alias/name) or, with three slashes, a key or alias ARN
// (awskms:///arn:aws:kms:eu-west-1:111122223333:key/…, whose region is
// used). Its only parameters are region and endpoint (a VPC or FIPS
// endpoint, or a test server). Or call New with Options.
//
// Credentials come from the AWS SDK's default chain — environment, shared
// config and credentials files, web identity, ECS task and EC2 instance
// roles — or from Options.Credentials (StaticCredentials for a fixed access
// key). They are never read from a URI (a URI with user information or a
// credential parameter is refused) and never appear in an error, a log line
// or the driver's String, GoString, Format, JSON or slog forms.
//
// # Transport security
//
// The AWS SDK speaks HTTPS to AWS. An Endpoint override (a VPC endpoint, a
// test server) must be https, or http to this machine only (localhost,
// 127.0.0.0/8, ::1); plain http to another host is refused unless
// Options.InsecureAllowPlaintextHTTP says that something else encrypts the
// path.
//
// # Associated data
//
// AWS KMS authenticates associated data as the encryption context, a map of
// strings. Wrap sends {"piiguard-ad": base64(associatedData)} (standard
// base64, EncryptionContextKey) and Unwrap must send the same, so a wrapped
// key only opens with the associated data it was wrapped with; empty
// associated data sends no encryption context. Associated data is not
// secret but is visible: AWS CloudTrail logs the encryption context of
// every call, which lets an auditor see which keyset was unwrapped.
// Associated data is limited to 4096 bytes.
//
// Unwrap always names the driver's key in Decrypt (KeyId), as AWS
// recommends: a ciphertext made under any other key fails
// (IncorrectKeyException), even one the caller's credentials could decrypt.
//
// # Wire format
//
// A wrapped key is the byte 0x01 followed by the CiphertextBlob of AWS KMS.
// What AWS KMS encrypts is the byte 0x01 followed by the secret: AWS KMS
// refuses an empty plaintext (its Plaintext member is 1 to 4096 bytes), and
// piiguard must be able to wrap an empty one; the inner byte also versions
// the payload. So a secret is at most MaxPlaintext (4095) bytes. Both bytes
// are checked on Unwrap; an unknown outer byte reads as tampering
// (kms.ErrInvalidCiphertext). The format is pinned by TestWireFormat.
//
// # Errors
//
// Every error wraps a kms sentinel and names the key, the AWS operation,
// the AWS error code, the HTTP status and the request ID:
//
//	AccessDeniedException, UnrecognizedClientException,
//	InvalidSignatureException, ExpiredTokenException  → kms.ErrPermissionDenied
//	DisabledException, KMSInvalidStateException        → kms.ErrDisabled
//	    (disabled, pending deletion or pending import: all reversible)
//	NotFoundException                                  → kms.ErrNotFound
//	InvalidCiphertextException, IncorrectKeyException  → kms.ErrInvalidCiphertext
//	ThrottlingException, KMSInternalException,
//	DependencyTimeoutException, KeyUnavailableException,
//	HTTP 429 and 5xx, connection errors                → kms.ErrUnavailable
//	ValidationException, InvalidKeyUsageException      → kms.ErrInvalidArgument
//	anything else                                      → kms.ErrBackend
//
// kms.RootKey retries kms.ErrUnavailable with backoff; the AWS SDK's own
// retries are turned off so that an outage does not multiply attempts. The
// service's message is kept only for the access, state and not-found codes,
// which explain the fault and quote no request data; other messages (some
// echo request members) are dropped. A cancelled or expired context gives
// an error wrapping the context's error.
//
// # How it is tested
//
// The tests run against github.com/nsmithuk/local-kms, an AWS-KMS-compatible
// server written in Go, in the test process: its request handlers serve an
// httptest server over a LevelDB database in a temporary directory, and the
// tests create, alias, disable, enable and schedule the deletion of keys
// through the AWS KMS API with the real SDK. They need no AWS account, no
// network and no external process, and run under make test. They live in
// the nested module kms/awskms/localkms, so that local-kms and what it pulls
// in (the AWS SDK v1, LevelDB, logrus) are not requirements of piiguard's
// module; that module's command also serves local-kms on 127.0.0.1 for the
// end-to-end tests (scripts/integration.sh). The
// package passes kmstest.RunDriverTests with key ARNs and with aliases;
// other tests cover the encryption context format, disabled, unknown and
// pending-deletion keys, tampered ciphertexts, a server stopped mid-test,
// throttling retried by kms.RootKey, and the mapping of every AWS error code
// above (answered by a test server in the AWS JSON protocol and parsed by
// the real SDK). local-kms differs from AWS KMS in ways the tests account
// for: it answers AccessDeniedException for every key problem on Decrypt
// (AWS says DisabledException for a disabled key); it ignores the key named
// inside a ciphertext blob when Decrypt names a key, so the test server adds
// AWS's IncorrectKeyException check; and it panics on a blob shorter than a
// GCM nonce, which the test server answers as AWS does, with
// InvalidCiphertextException. Behaviour against AWS KMS itself (IAM
// policies, CloudTrail, multi-Region keys, custom key stores) is not tested
// here.
//
// Benchmarks (BenchmarkDriver, BenchmarkKeyring, in kms/awskms/localkms) measure Wrap and Unwrap
// against local-kms, a raw AES-256-GCM seal for comparison, and the cached
// and cold paths of a kms.Keyring over this backend.
package awskms
