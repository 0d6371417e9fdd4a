package kms

import (
	"fmt"

	"github.com/piiguard/piiguard"
)

// Sentinel errors. Every error returned by this package and by its backends
// wraps one of them (or a context error), so callers classify with
// errors.Is, and with piiguard.ErrorCode, the module's one classification.
// They are the module's class sentinels (piiguard.ErrNotFound, …) under
// kms's names: the same values, so errors.Is(err, kms.ErrClosed) and
// errors.Is(err, audit.ErrClosed) agree. Messages name keysets, key IDs,
// files and URIs — never key bytes, plaintext, ciphertext, passphrases or
// credentials.
var (
	// ErrNotFound: the keyset, key version, subject key or backend key does
	// not exist.
	ErrNotFound = piiguard.ErrNotFound
	// ErrAlreadyExists: a keyset or subject key of that name exists.
	ErrAlreadyExists = piiguard.ErrAlreadyExists
	// ErrPermissionDenied: the backend refused the caller's credentials.
	ErrPermissionDenied = piiguard.ErrPermissionDenied
	// ErrUnavailable: the backend or store could not be reached or asked the
	// caller to slow down. It is the only class that is retried.
	ErrUnavailable = piiguard.ErrUnavailable
	// ErrInvalidCiphertext: a wrapped key or ciphertext failed to
	// authenticate: it was tampered with, truncated, bound to other
	// associated data, or made under another key.
	ErrInvalidCiphertext = piiguard.ErrInvalidCiphertext
	// ErrDisabled: the key version (or backend key) is disabled. It may be
	// enabled again.
	ErrDisabled = piiguard.ErrDisabled
	// ErrDestroyed: the key version or subject key was destroyed; what it
	// protected can never be decrypted again.
	ErrDestroyed = piiguard.ErrDestroyed
	// ErrClosed: the root key, keyring or store was closed.
	ErrClosed = piiguard.ErrClosed
	// ErrConflict: a concurrent writer changed the keyset first (optimistic
	// concurrency); the operation can be retried on fresh state.
	ErrConflict = piiguard.ErrConflict
	// ErrWrongPassphrase: the passphrase does not open the root key file.
	ErrWrongPassphrase = piiguard.ErrWrongPassphrase
	// ErrWeakPassphrase: a passphrase was refused for being empty or weak.
	ErrWeakPassphrase = piiguard.ErrWeakPassphrase
	// ErrCorrupt: a key file, backup or stored record is truncated or
	// malformed.
	ErrCorrupt = piiguard.ErrCorrupt
	// ErrUnsupportedVersion: a key file, backup or record was written by a
	// newer version of piiguard (or in a format this one does not know).
	ErrUnsupportedVersion = piiguard.ErrUnsupportedVersion
	// ErrUnknownScheme: no backend is registered for a URI's scheme.
	ErrUnknownScheme = piiguard.ErrUnknownScheme
	// ErrNotEmpty: a restore was attempted into a store that holds keysets.
	ErrNotEmpty = piiguard.ErrNotEmpty
	// ErrKeysMissing: keys that existed are gone: a keyset the key store's
	// manifest lists has no record any more. The keyring never makes new
	// keys in their place; restore them from a backup.
	ErrKeysMissing = piiguard.ErrKeysMissing
	// ErrWrongRootKey: the root key is not the one the key store was made
	// under (it cannot unwrap the store's manifest check); keysets must not
	// be created or opened with it. Restore the right root key.
	ErrWrongRootKey = piiguard.ErrWrongRootKey
	// ErrInvalidArgument: a name, URI, option or purpose is malformed.
	ErrInvalidArgument = piiguard.ErrInvalidArgument
	// ErrVerification: Verify found a key version that does not open its
	// canary.
	ErrVerification = piiguard.ErrVerification
	// ErrBackend: the backend failed in a way it did not classify
	// (piiguard.ErrInternal, code "internal").
	ErrBackend = piiguard.ErrInternal
)

// KeyError is an error about one keyset or one version of it. It is returned
// (wrapped) by Keyring and Admin operations; use errors.As to read the
// key's name.
type KeyError struct {
	Op      string // the operation: "rotate", "decrypt", "destroy", …
	Keyset  string // the keyset's name
	KeyID   uint32 // the Tink key ID of the version, 0 when not about one
	Subject bool   // the key is a subject key and Keyset holds its subject ID (never printed by Error)
	Err     error  // the underlying error; wraps a sentinel
}

// Error names the operation, the keyset and the key ID, and says what went
// wrong; it never names a subject (Subject) and holds no key material.
func (e *KeyError) Error() string {
	if e.Keyset == "*" || e.Keyset == "" && !e.Subject {
		// An operation on every keyset (backup, restore, verify).
		return fmt.Sprintf("kms: %s: %v", e.Op, e.Err)
	}
	what := fmt.Sprintf("keyset %q", e.Keyset)
	if e.Subject {
		// Subject IDs may be personal data: the message leaves them out;
		// the field keeps it for callers that need it.
		what = "subject key"
	}
	if e.KeyID != 0 {
		// A Tink key ID, not a version number (1, 2, …).
		what += fmt.Sprintf(" key ID %d", e.KeyID)
	}
	return fmt.Sprintf("kms: %s %s: %v", e.Op, what, e.Err)
}

// Unwrap returns Err, so that errors.Is reaches the sentinel.
func (e *KeyError) Unwrap() error { return e.Err }

func keyErr(op, name string, id uint32, err error) error {
	return &KeyError{Op: op, Keyset: name, KeyID: id, Err: err}
}
