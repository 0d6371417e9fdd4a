// Package kms holds piiguard's keys: a root key in a backend, the named
// keysets it protects, and the per-subject keys used for crypto-shredding.
//
// # Key hierarchy
//
//	root key (RootKey over a Driver)     never leaves its backend: a local
//	                                     key file, AWS KMS, GCP KMS, Vault
//	                                     Transit, a PKCS#11 HSM
//	  └─ data key, one per keyset        32 random bytes, wrapped by the root
//	       └─ keyset (Tink)              named, one purpose each, versions
//	            └─ subject keys          one Tink AEAD keyset per data subject,
//	                                     encrypted by the "subjects" keyset
//
// A Keyring ties them together over a Store (FileStore, MemoryStore, or
// kms/sqlstore for SQLite and PostgreSQL). The root key's backend is called
// only on the cold path: a keyset is unwrapped once, cached (bounded in
// size and age, one loader per keyset on a miss) and used from memory.
// Encrypting a field makes no network call in steady state.
//
// # Keys are never replaced silently
//
// A store keeps a Manifest beside its keysets: the root key it was made
// under (with a value wrapped by that root key, which only the same key
// unwraps) and the name of every keyset it has held. Creating a keyset —
// Create, or Ensure for a missing one — consults it first, so that keys
// which existed and went missing are an error, never a reason to make new
// ones: a keyset the store held and lost fails with ErrKeysMissing, and a
// root key the store was not made under (a key file replaced by a new one
// at the same path) fails with ErrWrongRootKey, both before anything is
// written. The way back is a restore from backup (Restore writes into a
// store that lost its keysets but kept its manifest) or the right root key.
// Verify reports keysets the manifest lists and the store lacks. What a
// store cannot know is that it replaced another one whole (a deleted or
// emptied database is a new store); an application whose sealed data
// exists without its keys must check that itself, as examples/quickstart
// does. Opening an existing keyset never reads the manifest: the data path
// costs nothing for it.
//
// # Purposes
//
// Each keyset has one Purpose, which fixes its Tink key type: PurposeAEAD
// (AES-256-GCM, fields), PurposePRF (HMAC-SHA256, blind indexes and
// deterministic tokens), PurposeDeterministicAEAD (AES-SIV, reversible
// tokens), PurposeMAC (HMAC-SHA256, the audit chain) and PurposeSignature
// (Ed25519, audit checkpoints).
//
// # Versions and rotation
//
// A keyset has versions (Tink keys), each enabled, disabled or destroyed,
// exactly one of them primary. Rotate adds a version and makes it primary;
// older versions keep decrypting until Disable stops them (reversibly, with
// Enable) or Destroy erases their key material for good. The primary can be
// neither disabled nor destroyed. For a fleet of processes, AddVersion,
// wait KeyringOptions.CacheMaxAge, then Promote. Every change is a
// compare-and-swap on the keyset's revision in the store, retried on
// conflict, so concurrent rotations never lose a version.
//
// # Migrating root keys
//
// Admin.Rewrap moves every keyset to another root key (another backend):
// only the 32-byte data keys are rewrapped; keysets and data are untouched.
// It is resumable, and Verify proves the result.
//
// # Backup, restore and the recovery drill
//
// Admin.Backup writes every keyset, still wrapped, into one versioned
// backup file (format documented at WriteBackup's file, pinned by
// testdata/backup-v1.json); Admin.Restore writes it into an empty store
// (or one that lost its keysets and kept its manifest).
// Admin.Verify and Admin.VerifyBackup are the drill a security team runs:
// every version of every keyset is unwrapped and exercised on a canary made
// when the version was created.
//
// # Subject keys and crypto-shredding
//
// Keyring.SubjectKey returns one data subject's AEAD, creating it on first
// use; Admin.DestroySubjectKey erases it, leaving a tombstone so that it is
// never recreated. Whatever was encrypted with it — in the database, its
// replicas, its backups — can no longer be decrypted. Subject keys are not in
// key backups, or restoring one would bring erased subjects back. Two limits
// to know: a process that cached the key keeps it for up to
// SubjectCacheMaxAge; and a copy of the destroyed subject key record that
// survives elsewhere (an old database backup of the key store, free blocks
// of a disk) stays decryptable for as long as the version of the "subjects"
// keyset that encrypted it exists. To close that window, rotate the
// "subjects" keyset, re-wrap every subject key under the new primary with
// Admin.RewrapSubjectKeys, then destroy the old version — on a schedule
// shorter than your erasure deadline. Destroy refuses a version of that
// keyset while any live subject key still depends on it: destroying it
// would erase all of those subjects. Both need a store that can list its
// subject keys (SubjectKeyRewrapper: FileStore, MemoryStore and
// kms/sqlstore can); a store wrapped by the application must forward those
// two methods.
//
// # Root key backends
//
// A backend implements Driver (Wrap, Unwrap, Close) and is wrapped in a
// RootKey, which does the shared work: closed state, error classification,
// bounded retries with backoff for ErrUnavailable. Backends open by URI
// through a URLMux, whose zero value knows the built-in schemes:
//
//	local:///var/lib/app/root.key?passphrase_env=APP_ROOT_PASSPHRASE[&create=true]
//	insecure-memory://demo     (a random key in memory: tests and demos only)
//
// Other backends live in sub-packages, so that an application only pulls the
// SDKs it uses, and are registered on a URLMux explicitly. Every backend
// passes the conformance suite in kms/kmstest.
//
// The local key file format is documented in keyfile.go and pinned by
// testdata/rootkey-v1.json: a 32-byte root key sealed with AES-256-GCM under
// a key derived from a passphrase with argon2id, whose parameters are stored
// in the file and authenticated. Weak passphrases are refused
// (CheckPassphrase).
//
// # Errors
//
// Every error wraps one sentinel (ErrNotFound, ErrAlreadyExists,
// ErrPermissionDenied, ErrUnavailable, ErrInvalidCiphertext, ErrDisabled,
// ErrDestroyed, ErrClosed, ErrConflict, ErrWrongPassphrase,
// ErrWeakPassphrase, ErrCorrupt, ErrUnsupportedVersion, ErrUnknownScheme,
// ErrNotEmpty, ErrKeysMissing, ErrWrongRootKey, ErrInvalidArgument,
// ErrVerification, ErrBackend) or a context
// error; ErrorCode maps an error to a stable Code for metrics and audit
// events. Errors about a keyset are *KeyError values that name the keyset and
// version. No error, String method or audit event contains key bytes,
// plaintext, ciphertext, passphrases or credentials.
//
// # Audit
//
// Every key operation — create, rotate, enable, disable, destroy, rewrap,
// backup, restore, verify, subject key create and destroy — is reported to
// KeyringOptions.Audit as an audit.Event, successful or not. An operation
// that succeeded but whose event could not be recorded returns an error that
// says so.
package kms
