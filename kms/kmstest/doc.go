// Package kmstest holds the conformance suites that every piiguard key
// management backend and key store must pass, and test doubles for the
// layers above them.
//
// A backend (a kms.Driver: a root key in a key file, a cloud KMS, Vault
// Transit or an HSM) calls RunDriverTests from its tests with a
// DriverHarness that makes drivers over two different root keys. The suite
// checks the kms.Driver contract — round trips, associated data binding,
// tamper and wrong-key detection, context cancellation, concurrency, Close
// semantics, error classes, and that no error or formatting leaks plaintext,
// ciphertext or key material — first on the driver alone, then wrapped in a
// kms.RootKey.
//
// A key store (a kms.Store) calls RunStoreTests with a function that returns
// an empty store; RunConcurrentRotations checks, across several stores
// sharing one storage, that compare-and-swap loses no key version.
//
// CountingDriver wraps any driver, counts Wrap and Unwrap calls, and can
// simulate an outage (kms.ErrUnavailable) or any other failure, for tests of
// retries and caches.
//
// The suites use testify and are meant to run with -race. They make no
// network call of their own: whatever a backend needs (a local KMS-compatible
// server, SoftHSM2, Vault) is started by that backend's tests.
package kmstest
