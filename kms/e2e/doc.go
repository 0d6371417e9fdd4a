// Package e2e holds piiguard's end-to-end tests of key management across
// backends; it has no API. Its tests (package e2e_test) prove the
// behaviour users depend on when a backend fails or is replaced:
//
//   - Backend outage: with keysets cached, sealing and opening carry on
//     while the root key's backend is down; a cache miss makes a bounded
//     number of attempts and fails with kms.ErrUnavailable; creating,
//     rotating and rewrapping fail cleanly, leaving the store as it was,
//     and nothing is ever encrypted under a key the store did not keep.
//   - Migration: one Admin.Rewrap moves every keyset to another root key
//     (local key file → multi-backend; under the integration tag, local key
//     file → PKCS#11 HSM, and local key file → AWS KMS → HSM, with AWS KMS
//     served by github.com/nsmithuk/local-kms, which scripts/integration.sh
//     starts on 127.0.0.1 from kms/awskms/localkms); Verify then
//     proves every version opens, and data encrypted before still
//     decrypts, also in a new process that knows only the new root.
//
// Without build tags the tests use local key files, in-memory drivers and
// kms/kmstest.CountingDriver to simulate outages. Under the integration tag
// (make integration) they run against a real SoftHSM2 token, in a token
// directory of their own, and stop the "HSM" by taking its token storage
// away mid-test, then bring it back.
package e2e
