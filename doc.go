// Package piiguard protects the personal data of customers (PII) inside the
// Go applications that hold it.
//
// A service tags the PII fields of its models, and piiguard seals them
// before they are stored (field-level envelope encryption under keys kept in
// a KMS or HSM), finds records again through blind indexes and deterministic
// tokens without decrypting, opens them only for principals whose access
// policy allows it, masks what a principal may see only in part, records an
// audit event for every reveal and denial in a tamper-evident log, rotates
// keys without downtime, and answers privacy law: export one customer's
// data, erase one customer everywhere (crypto-shredding), keep nothing past
// its retention.
//
// # Packages
//
//	kms        root keys (local key file, cloud KMS, HSM), keysets, rotation,
//	           caching, subject keys, backup, restore and verification
//	pii        struct tags → Seal / Open / Redact, blind indexes, masking,
//	           redacting value types
//	tokenize   deterministic, reversible, format-preserving and vaulted tokens
//	access     principals, purposes, policies: allow, mask or deny a reveal
//	audit      events, sinks, a tamper-evident chain, queries, monitoring
//	examples   runnable programs, the quickstart first
//
// Start with examples/quickstart (go run ./examples/quickstart), then the
// kms package documentation for the key hierarchy.
//
// # The module's vocabulary
//
// This package itself holds what every other package shares, and imports
// nothing of piiguard: the one error model — a fixed set of Codes, one class
// sentinel per code (ErrNotFound, ErrDenied, ErrInvalidCiphertext, …), and
// ErrorCode, which classifies any error of any piiguard package (each
// package's sentinels are these values, or wrap one) — and the one SQL
// Dialect of the SQL stores (kms/sqlstore, audit.SQLSink,
// tokenize/sqlvault).
//
// # Threat model
//
// piiguard protects against:
//
//   - stolen database dumps and backups: PII fields are ciphertext, and the
//     keys that open them are wrapped by a root key that never leaves its
//     KMS or HSM (or its passphrase-protected key file);
//   - over-privileged insiders: every reveal passes an access decision
//     (least privilege, record ownership, purpose, fresh MFA) and leaves an
//     audit record whose chain shows any edit or deletion;
//   - ciphertext copied between rows or fields: each ciphertext is bound by
//     its associated data to its record type, field and record ID, and does
//     not open anywhere else;
//   - PII leaking into logs and error messages: values print redacted
//     through fmt, log/slog and encoding/json, and no error, panic or audit
//     event carries plaintext, ciphertext or key bytes.
//
// piiguard does not protect against a compromised process that holds keys in
// memory: code running inside the application can do what the application
// can. Nor does it hide which records exist, their sizes, or — for blind
// indexes and deterministic tokens, by design — which records share a value.
package piiguard
