package kms

import (
	"context"
	"errors"
	"fmt"

	"github.com/piiguard/piiguard/kms/internal/kmserr"
)

// Sentinel errors. Every error returned by this package and by its backends
// wraps exactly one of them (or a context error), so callers classify with
// errors.Is. Messages name keysets, key IDs, files and URIs — never key
// bytes, plaintext, ciphertext, passphrases or credentials. (The values are
// defined in kms/internal/kmserr, so that the wire formats kms is built on
// can wrap them too; these are the same values.)
var (
	// ErrNotFound: the keyset, key version, subject key or backend key does
	// not exist.
	ErrNotFound = kmserr.ErrNotFound
	// ErrAlreadyExists: a keyset or subject key of that name exists.
	ErrAlreadyExists = kmserr.ErrAlreadyExists
	// ErrPermissionDenied: the backend refused the caller's credentials.
	ErrPermissionDenied = kmserr.ErrPermissionDenied
	// ErrUnavailable: the backend or store could not be reached or asked the
	// caller to slow down. It is the only class that is retried.
	ErrUnavailable = kmserr.ErrUnavailable
	// ErrInvalidCiphertext: a wrapped key or ciphertext failed to
	// authenticate: it was tampered with, truncated, bound to other
	// associated data, or made under another key.
	ErrInvalidCiphertext = kmserr.ErrInvalidCiphertext
	// ErrDisabled: the key version (or backend key) is disabled. It may be
	// enabled again.
	ErrDisabled = kmserr.ErrDisabled
	// ErrDestroyed: the key version or subject key was destroyed; what it
	// protected can never be decrypted again.
	ErrDestroyed = kmserr.ErrDestroyed
	// ErrClosed: the root key, keyring or store was closed.
	ErrClosed = kmserr.ErrClosed
	// ErrConflict: a concurrent writer changed the keyset first (optimistic
	// concurrency); the operation can be retried on fresh state.
	ErrConflict = kmserr.ErrConflict
	// ErrWrongPassphrase: the passphrase does not open the root key file.
	ErrWrongPassphrase = kmserr.ErrWrongPassphrase
	// ErrWeakPassphrase: a passphrase was refused for being empty or weak.
	ErrWeakPassphrase = kmserr.ErrWeakPassphrase
	// ErrCorrupt: a key file, backup or stored record is truncated or
	// malformed.
	ErrCorrupt = kmserr.ErrCorrupt
	// ErrUnsupportedVersion: a key file, backup or record was written by a
	// newer version of piiguard (or in a format this one does not know).
	ErrUnsupportedVersion = kmserr.ErrUnsupportedVersion
	// ErrUnknownScheme: no backend is registered for a URI's scheme.
	ErrUnknownScheme = kmserr.ErrUnknownScheme
	// ErrNotEmpty: a restore was attempted into a store that holds keysets.
	ErrNotEmpty = kmserr.ErrNotEmpty
	// ErrKeysMissing: keys that existed are gone: a keyset the key store's
	// manifest lists has no record any more. The keyring never makes new
	// keys in their place; restore them from a backup.
	ErrKeysMissing = kmserr.ErrKeysMissing
	// ErrWrongRootKey: the root key is not the one the key store was made
	// under (it cannot unwrap the store's manifest check); keysets must not
	// be created or opened with it. Restore the right root key.
	ErrWrongRootKey = kmserr.ErrWrongRootKey
	// ErrInvalidArgument: a name, URI, option or purpose is malformed.
	ErrInvalidArgument = kmserr.ErrInvalidArgument
	// ErrVerification: Verify found a key version that does not open its
	// canary.
	ErrVerification = kmserr.ErrVerification
	// ErrBackend: the backend failed in a way it did not classify.
	ErrBackend = kmserr.ErrBackend
)

// Code is the class of an error, for metrics and audit events.
type Code string

// Codes, one per sentinel error.
const (
	CodeOK                 Code = "ok"
	CodeNotFound           Code = "not_found"
	CodeAlreadyExists      Code = "already_exists"
	CodePermissionDenied   Code = "permission_denied"
	CodeUnavailable        Code = "unavailable"
	CodeInvalidCiphertext  Code = "invalid_ciphertext"
	CodeDisabled           Code = "disabled"
	CodeDestroyed          Code = "destroyed"
	CodeClosed             Code = "closed"
	CodeConflict           Code = "conflict"
	CodeWrongPassphrase    Code = "wrong_passphrase"
	CodeWeakPassphrase     Code = "weak_passphrase"
	CodeCorrupt            Code = "corrupt"
	CodeUnsupportedVersion Code = "unsupported_version"
	CodeUnknownScheme      Code = "unknown_scheme"
	CodeNotEmpty           Code = "not_empty"
	CodeKeysMissing        Code = "keys_missing"
	CodeWrongRootKey       Code = "wrong_root_key"
	CodeInvalidArgument    Code = "invalid_argument"
	CodeVerification       Code = "verification_failed"
	CodeCanceled           Code = "canceled"
	CodeDeadlineExceeded   Code = "deadline_exceeded"
	CodeBackend            Code = "backend"
)

var codes = []struct {
	err  error
	code Code
}{
	{context.Canceled, CodeCanceled},
	{context.DeadlineExceeded, CodeDeadlineExceeded},
	{ErrNotFound, CodeNotFound},
	{ErrAlreadyExists, CodeAlreadyExists},
	{ErrPermissionDenied, CodePermissionDenied},
	{ErrUnavailable, CodeUnavailable},
	{ErrInvalidCiphertext, CodeInvalidCiphertext},
	{ErrDisabled, CodeDisabled},
	{ErrDestroyed, CodeDestroyed},
	{ErrClosed, CodeClosed},
	{ErrConflict, CodeConflict},
	{ErrWrongPassphrase, CodeWrongPassphrase},
	{ErrWeakPassphrase, CodeWeakPassphrase},
	{ErrCorrupt, CodeCorrupt},
	{ErrUnsupportedVersion, CodeUnsupportedVersion},
	{ErrUnknownScheme, CodeUnknownScheme},
	{ErrNotEmpty, CodeNotEmpty},
	{ErrKeysMissing, CodeKeysMissing},
	{ErrWrongRootKey, CodeWrongRootKey},
	{ErrInvalidArgument, CodeInvalidArgument},
	{ErrVerification, CodeVerification},
	{ErrBackend, CodeBackend},
}

// ErrorCode returns the class of err: CodeOK for nil, the code of the first
// sentinel err wraps, and CodeBackend for an error that wraps none.
func ErrorCode(err error) Code {
	if err == nil {
		return CodeOK
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeBackend
}

// classified reports whether err already wraps a sentinel or context error.
func classified(err error) bool {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return true
		}
	}
	return false
}

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
