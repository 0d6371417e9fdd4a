package kms

import (
	"context"
	"time"
)

// Purpose says what a keyset is for; it fixes the Tink key type of every
// version of the keyset.
type Purpose string

// Purposes.
const (
	// PurposeAEAD: AES-256-GCM, for field encryption.
	PurposeAEAD Purpose = "aead"
	// PurposePRF: HMAC-SHA256 PRF, for blind indexes and deterministic tokens.
	PurposePRF Purpose = "prf"
	// PurposeDeterministicAEAD: AES-SIV, for reversible deterministic tokens.
	PurposeDeterministicAEAD Purpose = "daead"
	// PurposeMAC: HMAC-SHA256 with a 256-bit tag, for the audit chain.
	PurposeMAC Purpose = "mac"
	// PurposeSignature: Ed25519, for signed audit checkpoints.
	PurposeSignature Purpose = "signature"
)

// Status is the state of one key version.
type Status string

// Statuses. A version moves enabled ⇄ disabled → destroyed; destroyed is
// final and its key material is gone.
const (
	StatusEnabled   Status = "enabled"
	StatusDisabled  Status = "disabled"
	StatusDestroyed Status = "destroyed"
)

// KeysetRecord is a keyset as a Store keeps it. The key material is
// encrypted: a fresh 32-byte data key encrypts the serialized Tink keyset
// (AES-256-GCM), and the root key wraps the data key. The metadata beside it
// is in the clear so that versions can be listed without a KMS call; it is
// never trusted for a security decision — the encrypted keyset is.
type KeysetRecord struct {
	// Name is the keyset's name: 1–128 characters of [A-Za-z0-9._-].
	Name string
	// Purpose fixes the key type.
	Purpose Purpose
	// Revision is the store's version of the record, for optimistic
	// concurrency: 0 before the first write, incremented by every PutKeyset.
	Revision int64
	// RootKey names the root key that wrapped WrappedDataKey.
	RootKey string
	// WrappedDataKey is the data key, wrapped by the root key.
	WrappedDataKey []byte
	// EncryptedKeyset is the Tink keyset, encrypted under the data key.
	EncryptedKeyset []byte
	// Versions describes every version ever created, oldest first.
	Versions []VersionRecord
	// Created and Updated are when the keyset was created and last changed.
	Created time.Time
	Updated time.Time
}

// Version returns the record of the version with Tink key ID id, or nil if
// the keyset has none. The result points into r.Versions.
func (r *KeysetRecord) Version(id uint32) *VersionRecord {
	for i := range r.Versions {
		if r.Versions[i].ID == id {
			return &r.Versions[i]
		}
	}
	return nil
}

// VersionRecord describes one version (one Tink key) of a keyset.
type VersionRecord struct {
	// ID is the Tink key ID; it is written into every ciphertext the
	// version makes.
	ID uint32
	// Number counts versions from 1 in order of creation.
	Number int
	// Status is enabled, disabled or destroyed.
	Status Status
	// Primary marks the version that encrypts; exactly one per keyset.
	Primary bool
	// Created is when the version was made; Updated when its status last
	// changed.
	Created time.Time
	Updated time.Time
	// Canary is the output of this version on a fixed, public input
	// (a ciphertext, PRF output, MAC tag or signature), checked by Verify.
	Canary []byte
}

// SubjectKeyRecord is one data subject's key as a Store keeps it: a Tink
// AEAD keyset encrypted by a keyring keyset, bound to the subject ID. After
// destruction only a tombstone remains: Destroyed is set and EncryptedKey is
// empty, so that the key can be neither used nor silently recreated.
type SubjectKeyRecord struct {
	SubjectID    string
	Keyset       string // the keyset whose AEAD encrypted EncryptedKey
	EncryptedKey []byte
	Created      time.Time
	Destroyed    time.Time // zero while the key exists
}

// KeysetStore keeps keyset records.
//
// Implementations must be safe for concurrent use by several processes
// sharing the same storage, and must make PutKeyset a compare-and-swap so
// that two writers rotating one keyset never lose a version.
type KeysetStore interface {
	// GetKeyset returns the named record, or an error wrapping ErrNotFound.
	GetKeyset(ctx context.Context, name string) (*KeysetRecord, error)
	// ListKeysets returns every record, sorted by name.
	ListKeysets(ctx context.Context) ([]*KeysetRecord, error)
	// PutKeyset writes rec if the stored revision equals rec.Revision (0
	// means the keyset must not exist yet) and sets rec.Revision to the new
	// revision. Otherwise it writes nothing and returns an error wrapping
	// ErrConflict (or ErrAlreadyExists when rec.Revision is 0). A write is
	// atomic: it is either wholly stored or not at all.
	PutKeyset(ctx context.Context, rec *KeysetRecord) error
}

// SubjectKeyStore keeps subject keys. Lookups are by subject ID and must not
// scan: stores are sized for millions of subjects.
type SubjectKeyStore interface {
	// GetSubjectKey returns the subject's record (a tombstone if destroyed),
	// or an error wrapping ErrNotFound.
	GetSubjectKey(ctx context.Context, subjectID string) (*SubjectKeyRecord, error)
	// PutSubjectKey stores a new record; it fails with ErrAlreadyExists if
	// the subject has a record or a tombstone.
	PutSubjectKey(ctx context.Context, rec *SubjectKeyRecord) error
	// DestroySubjectKey erases the subject's key material for good, leaving
	// a tombstone dated at. It fails with ErrNotFound if there is no record
	// and is a no-op on a tombstone.
	DestroySubjectKey(ctx context.Context, subjectID string, at time.Time) error
}

// SubjectKeyRewrapper is implemented by stores whose subject keys can be
// listed and re-encrypted in place: what Admin.RewrapSubjectKeys needs,
// and what lets Admin.Destroy check that no subject key still depends on
// a version of the subject keyset. The stores of kms/filestore,
// kms/insecuremem and kms/sqlstore implement it. Listing reads every
// subject: it is for maintenance passes, never for the hot path.
type SubjectKeyRewrapper interface {
	// ListSubjectKeys returns up to limit live subject keys (tombstones are
	// skipped) that come after cursor ("" for the first page), and the
	// cursor of the next page ("" after the last). The order is the
	// store's own, and stays stable while records are added, replaced or
	// destroyed, so that a pass over all pages sees every record that
	// existed when it began and was not destroyed since.
	ListSubjectKeys(ctx context.Context, cursor string, limit int) ([]*SubjectKeyRecord, string, error)
	// ReplaceSubjectKey sets the subject's Keyset and EncryptedKey to rec's
	// if the stored key still equals old and is not a tombstone. Otherwise
	// it writes nothing and fails with an error wrapping ErrConflict
	// (ErrNotFound when the subject has no record): it never brings a
	// destroyed key back.
	ReplaceSubjectKey(ctx context.Context, rec *SubjectKeyRecord, old []byte) error
}

// Manifest is a key store's record of itself: the root key it was made
// under and the name of every keyset it has ever held. The Keyring writes
// it when it creates the first keyset, and keeps it up to date; it is what
// lets the keyring refuse to replace keys that went missing (see
// Admin.Create, ErrKeysMissing and ErrWrongRootKey) instead of making new
// ones in their place, which would leave every value sealed under the old
// ones unreadable.
type Manifest struct {
	// Revision is the store's version of the manifest, for optimistic
	// concurrency, as KeysetRecord.Revision: 0 before the first write.
	Revision int64
	// RootKey names the root key the store's keysets are wrapped by
	// (RootKey.Name).
	RootKey string
	// RootCheck is a fixed value wrapped by that root key: a root key that
	// unwraps it is the one the store was made under, even when another
	// key file now sits at the same path under the same name.
	RootCheck []byte
	// Keysets lists, sorted and without duplicates, every keyset name the
	// store has held. Keysets are never deleted in normal operation (their
	// versions are destroyed, the record stays), so a name listed here
	// whose record is gone means the store lost it.
	Keysets []string
	// Created and Updated are when the manifest was first written and last
	// changed.
	Created time.Time
	Updated time.Time
}

// ManifestStore keeps a store's Manifest.
type ManifestStore interface {
	// GetManifest returns the store's manifest, or an error wrapping
	// ErrNotFound if it has none (a new store, or one written by a piiguard
	// older than the manifest).
	GetManifest(ctx context.Context) (*Manifest, error)
	// PutManifest writes m if the stored revision equals m.Revision (0: no
	// manifest yet) and sets m.Revision to the new revision; otherwise it
	// writes nothing and fails with an error wrapping ErrConflict
	// (ErrAlreadyExists when m.Revision is 0). A write is atomic.
	PutManifest(ctx context.Context, m *Manifest) error
}

// Store keeps keysets, subject keys and the store's manifest. Stores in
// this module: kms/sqlstore (SQLite, PostgreSQL), kms/filestore (a
// directory) and, for tests and demos, kms/insecuremem (memory); each
// passes the conformance suite of kms/kmstest.
type Store interface {
	KeysetStore
	SubjectKeyStore
	ManifestStore
}
