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
// # The data path and administration
//
// A Keyring is the data path: over a Store and a root key, it hands out the
// Tink primitives of keysets by name (AEAD, DeterministicAEAD, PRF, MAC,
// Signer, Verifier) and the subject keys of crypto-shredding (SubjectKey).
// The root key's backend is called only on the cold path: a keyset is
// unwrapped once, cached (bounded in size and age, one loader per keyset on
// a miss) and used from memory. Encrypting a field makes no network call in
// steady state.
//
// An Admin (NewAdmin(keyring)) is administration: the lifecycle of keysets
// (Create, Ensure, Rotate, AddVersion, Promote, Disable, Enable, Destroy,
// Versions, Keysets), backups and the recovery drill (Backup, Restore,
// Verify, VerifyBackup), migration to another root key (Rewrap) and
// crypto-shredding (DestroySubjectKey, RewrapSubjectKeys). It shares its
// keyring's cache, so that what it changes is dropped from the cache at
// once. Code that only encrypts, decrypts and computes indexes needs a
// Keyring; code that makes or retires keys needs an Admin.
//
// # Where the pieces live
//
//	kms                   the portable layer: Keyring, Admin, RootKey over
//	                      the Driver interface, URLMux, the Store interfaces
//	                      and records, errors
//	kms/localkey          the local key file driver (passphrase, argon2id),
//	                      its file format, the passphrase policy, local: URIs
//	kms/sqlstore          the key store in SQLite or PostgreSQL
//	kms/filestore         the key store in a directory (with manifest.json)
//	kms/insecuremem       tests and demos only: a root key and a store that
//	                      live in memory, insecure-memory: URIs
//	kms/awskms            root keys in AWS KMS,
//	kms/gcpkms              in Google Cloud KMS,
//	kms/vaulttransit        in HashiCorp Vault Transit,
//	kms/pkcs11              in a PKCS#11 HSM,
//	kms/multi               in several at once
//	kms/kmstest           the conformance suites of drivers and stores
//	kms/internal/format   the wire formats kms and kms/filestore share:
//	                      keyset JSON, key backup v1
//
// In this package: keyring.go (Keyring, its options), primitives.go (the
// primitives and their cache entries), subject.go (SubjectKey), cache.go
// (the cache), keyset.go (sealing and opening keysets, canaries),
// manifest.go (the store's manifest), admin.go (Admin, Create, Ensure,
// listing), admin_versions.go (rotation and retirement), admin_backup.go,
// admin_verify.go, admin_rewrap.go, admin_subjects.go (crypto-shredding),
// wire.go (records to and from the wire formats), store.go (Store, records,
// purposes), driver.go (Driver, RootKey), mux.go (URLMux), errors.go.
//
// # Keys are never replaced silently
//
// A store keeps a Manifest beside its keysets: the root key it was made
// under (with a value wrapped by that root key, which only the same key
// unwraps) and the name of every keyset it has held. Creating a keyset —
// Admin.Create, or Admin.Ensure for a missing one — consults it first, so
// that keys which existed and went missing are an error, never a reason to
// make new ones: a keyset the store held and lost fails with
// ErrKeysMissing, and a root key the store was not made under (a key file
// replaced by a new one at the same path) fails with ErrWrongRootKey, both
// before anything is written. The way back is a restore from backup
// (Admin.Restore writes into a store that lost its keysets but kept its
// manifest) or the right root key. Admin.Verify reports keysets the
// manifest lists and the store lacks. What a store cannot know is that it
// replaced another one whole (a deleted or emptied database is a new
// store); an application whose sealed data exists without its keys must
// check that itself, as examples/quickstart does. Opening an existing
// keyset never reads the manifest: the data path costs nothing for it.
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
// exactly one of them primary. Admin.Rotate adds a version and makes it
// primary; older versions keep decrypting until Disable stops them
// (reversibly, with Enable) or Destroy erases their key material for good.
// The primary can be neither disabled nor destroyed. For a fleet of
// processes, AddVersion, wait KeyringOptions.CacheMaxAge, then Promote.
// Every change is a compare-and-swap on the keyset's revision in the
// store, retried on conflict, so concurrent rotations never lose a version.
//
// # Migrating root keys
//
// Admin.Rewrap moves every keyset to another root key (another backend):
// only the 32-byte data keys are rewrapped; keysets and data are untouched.
// It is resumable, and Verify proves the result.
//
// # Backup, restore and the recovery drill
//
// Admin.Backup writes every keyset, still wrapped, into one versioned JSON
// backup file — format "piiguard.keybackup", version 1: the keysets in the
// FileStore keyset JSON, sorted by name, with a SHA-256 checksum of them
// (pinned by testdata/backup-v1.json, which later releases keep reading);
// a backup is useless without the root key. Admin.Restore writes it into
// an empty store (or one that lost its keysets and kept its manifest).
// Admin.Verify and Admin.VerifyBackup are the drill a security team runs:
// every version of every keyset is unwrapped and exercised on a canary made
// when the version was created.
//
// # Subject keys and crypto-shredding
//
// Keyring.SubjectKey returns one data subject's AEAD, creating it on first
// use; Admin.DestroySubjectKey erases it, leaving a tombstone so that it is
// never recreated. Whatever was encrypted with it — in the database, its
// replicas, its backups — can no longer be decrypted. Subject keys are not
// in key backups, or restoring one would bring erased subjects back. Two
// limits to know: a process that cached the key keeps it for up to
// SubjectCacheMaxAge; and a copy of the destroyed subject key record that
// survives elsewhere (an old database backup of the key store, free blocks
// of a disk) stays decryptable for as long as the version of the
// "subjects" keyset that encrypted it exists. To close that window, rotate
// the "subjects" keyset, re-wrap every subject key under the new primary
// with Admin.RewrapSubjectKeys, then destroy the old version — on a
// schedule shorter than your erasure deadline. Destroy refuses a version of
// that keyset while any live subject key still depends on it: destroying
// it would erase all of those subjects. Both need a store that can list
// its subject keys (SubjectKeyRewrapper: the stores of this module can); a
// store wrapped by the application must forward those two methods.
//
// # Root key backends
//
// A backend implements Driver (Wrap, Unwrap, Close) and is wrapped in a
// RootKey, which does the shared work: closed state, error classification,
// bounded retries with backoff for ErrUnavailable. Every backend lives in a
// sub-package, so that an application only links the SDKs it uses, and
// passes the conformance suite in kms/kmstest. Backends open by URI
// through a URLMux on which the application registers them; the zero
// URLMux knows no scheme, and there is no global one:
//
//	var mux kms.URLMux
//	mux.Register(localkey.Scheme, &localkey.Opener{})
//	mux.Register(awskms.Scheme, &awskms.Opener{})
//	root, err := mux.OpenRootKey(ctx, "local:///var/lib/app/root.key?passphrase_env=APP_ROOT_PASSPHRASE")
//
// (localkey.OpenRootKey is that, for local: alone.) The root key's name is
// the URI without its secrets.
//
// # Errors
//
// Every error wraps one sentinel (ErrNotFound, ErrAlreadyExists,
// ErrPermissionDenied, ErrUnavailable, ErrInvalidCiphertext, ErrDisabled,
// ErrDestroyed, ErrClosed, ErrConflict, ErrWrongPassphrase,
// ErrWeakPassphrase, ErrCorrupt, ErrUnsupportedVersion, ErrUnknownScheme,
// ErrNotEmpty, ErrKeysMissing, ErrWrongRootKey, ErrInvalidArgument,
// ErrVerification, ErrBackend) or a context error — also the errors of the
// backends and stores in sub-packages. They are the module's class
// sentinels (package piiguard) under kms's names, so piiguard.ErrorCode,
// the one classification of every piiguard error, maps an error to a
// stable piiguard.Code for metrics and audit events. Errors about a keyset are *KeyError
// values that name the keyset and version. No error, String method or
// audit event contains key bytes, plaintext, ciphertext, passphrases or
// credentials.
//
// # Audit
//
// Every key operation — create, rotate, enable, disable, destroy, rewrap,
// backup, restore, verify, subject key create and destroy — is reported to
// KeyringOptions.Audit as an audit.Event, successful or not. An operation
// that succeeded but whose event could not be recorded returns an error that
// says so.
package kms
