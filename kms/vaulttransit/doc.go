// Package vaulttransit is a piiguard root key backend over the Transit
// secrets engine of HashiCorp Vault (and API-compatible OpenBao): a
// kms.Driver that wraps and unwraps data keys with Transit's encrypt and
// decrypt endpoints under one named key of an AEAD type (aes256-gcm96,
// aes128-gcm96 or chacha20-poly1305). The key never leaves Vault.
//
// # Opening by URI
//
// Register the Opener on a kms.URLMux, then open root keys by URI:
//
//	var mux kms.URLMux
//	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
//	root, err := mux.OpenRootKey(ctx,
//		"vault-transit://vault.example:8200/transit/keys/piiguard-root?token_env=VAULT_TOKEN")
//
// The path is /<mount>/keys/<name>; the mount may have several segments.
// Parameters: token_env names the environment variable that holds the
// Vault token, namespace sets the Vault Enterprise namespace, tls=false
// speaks plain HTTP (local development only; HTTPS is the default). Or call
// New with Options; Options.HTTPClient carries the TLS settings (a private
// CA, a client certificate).
//
// The token is read once, when the driver is made, from Options.Token or
// the environment variable, never from a URI (a token parameter or user
// information is refused), and never appears in an error, a log line or
// the driver's String, GoString, Format, JSON or slog forms. Redirects are
// not followed: Go would resend X-Vault-Token to the redirect's host; point
// the address at the active node or at a load balancer that forwards. A
// least-privilege policy for the application grants only
//
//	path "transit/encrypt/piiguard-root" { capabilities = ["update"] }
//	path "transit/decrypt/piiguard-root" { capabilities = ["update"] }
//
// so that a mistyped key name fails (permission denied) instead of Transit
// creating a new key on first encrypt (upsert needs "create"). Admin, for
// operators and tests, creates, reads and rotates keys and sets
// min_decryption_version; its token needs more.
//
// # Transport security
//
// The token and every data key cross the connection, so an http:// address
// is accepted only for Vault on this machine (localhost, 127.0.0.0/8, ::1;
// the URI's tls=false likewise); anywhere else New refuses it unless
// Options.InsecureAllowPlaintextHTTP says that something else encrypts the
// path. Redirects are never followed.
//
// # Associated data
//
// Transit's context parameter is not associated data: it derives a key
// (for keys created with derived=true) and the driver does not use it.
// Associated data goes in associated_data (base64), which Transit
// authenticates with AEAD key types since Vault 1.13. An older Vault
// ignores the parameter with a warning ("Endpoint ignored these
// unrecognized parameters: [associated_data]"); the driver fails closed on
// that warning (kms.ErrBackend) rather than wrap keys not bound to their
// associated data.
//
// # Key versions and rotation
//
// A wrapped key keeps Transit's "vault:v<N>:" prefix, so KeyVersion tells
// which key version made it. After Admin.Rotate (or Vault's automatic
// rotation) new keys are wrapped under the latest version and old ones keep
// opening. Raising min_decryption_version (Admin.SetMinDecryptionVersion)
// makes Unwrap of older wrapped keys fail with kms.ErrDisabled — reversibly:
// Vault keeps the key material, it is not erasure. Rewrap first
// (kms.Admin.Rewrap). Keys with a custom version_template are not
// supported.
//
// # Wire format
//
// A wrapped key is the byte 0x01 followed by Transit's ciphertext string,
// unchanged. What Transit encrypts is the byte 0x01 followed by the secret,
// so Transit is never sent an empty plaintext and the payload is versioned.
// Unwrap checks the ciphertext strictly before sending it (decimal version
// without leading zeros, canonical standard base64): Vault's own parsing is
// lenient (it reads v0 as v1 and ignores the unused bits of the last base64
// character), and without the check some altered ciphertexts would open.
// The format is pinned by TestWireFormat.
//
// # Why plain net/http
//
// The driver speaks Transit's four endpoints with net/http rather than
// github.com/hashicorp/vault/api. That client would add a dozen modules
// (HCL, go-retryablehttp, go-jose, mapstructure, …) to every application
// that imports this package, read VAULT_* environment variables behind the
// caller's back, and retry on its own (so an outage would multiply with
// kms.RootKey's retries); the driver needs none of it, and doing the HTTP
// itself gives exact control of status codes, redirects, body limits and
// what an error may say.
//
// # Errors
//
// Every error wraps a kms sentinel and names the server, the key path, the
// HTTP status and Vault's error messages ({"errors": [...]}):
//
//	400 "… (too old)" (min_decryption_version)   → kms.ErrDisabled
//	400 "encryption key not found", 404          → kms.ErrNotFound
//	400 on decrypt (tampered, other key or
//	    associated data, version too new)         → kms.ErrInvalidCiphertext
//	400 otherwise (derived key without context,
//	    unsupported key type, …)                  → kms.ErrInvalidArgument
//	401, 403 (bad token, policy, upsert refused)  → kms.ErrPermissionDenied
//	3xx (not followed), 412, 429, 472, 473, 5xx
//	    (sealed, standby), connection errors      → kms.ErrUnavailable
//	other answers                                 → kms.ErrBackend
//
// kms.RootKey retries kms.ErrUnavailable with backoff, a bounded number of
// times. A cancelled or expired context gives an error wrapping the
// context's error.
//
// # How it is tested
//
// Vault cannot be built here. The tests run against an HTTP server started
// in the test process (httptest, on 127.0.0.1) that follows Vault's
// documented Transit HTTP API: create, read, rotate and configure keys;
// encrypt and decrypt with base64 plaintext and associated_data; ciphertexts
// "vault:v<N>:" + base64(nonce || ciphertext || tag) made with real
// AES-256-GCM, AES-128-GCM and ChaCha20-Poly1305 per key version;
// min_decryption_version; derived keys; upsert only for a token that may
// create; Vault's error bodies, messages and status codes (400, 403, 404,
// 429, 500, 503 sealed); Vault's lenient ciphertext parsing; and, on a
// switch, a pre-1.13 Vault that ignores associated_data with a warning.
// The package passes kmstest.RunDriverTests for all three AEAD key types;
// other tests cover rotation and min_decryption_version, the strict
// ciphertext check, every error class, a server stopped mid-test, retries
// by kms.RootKey, namespaces, nested mounts and URI parsing. Vault itself
// (its policies, audit devices, HA forwarding, auth methods) is not tested
// here.
//
// Benchmarks (BenchmarkDriver, BenchmarkKeyring) measure Wrap and Unwrap
// against the in-test server, a raw AES-256-GCM seal for comparison, and
// the cached and cold paths of a kms.Keyring over this backend.
package vaulttransit
