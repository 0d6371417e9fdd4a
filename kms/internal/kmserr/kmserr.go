// Package kmserr defines the sentinel errors of package kms. Package kms
// re-exports every one of them under the same name (kms.ErrNotFound is
// kmserr.ErrNotFound) and documents them there; they are defined here so
// that the packages kms itself is built on (kms/internal/format, the wire
// formats) can wrap them without importing kms.
package kmserr

import "errors"

// The sentinels, in the order of kms/errors.go.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrUnavailable        = errors.New("unavailable")
	ErrInvalidCiphertext  = errors.New("invalid ciphertext")
	ErrDisabled           = errors.New("key disabled")
	ErrDestroyed          = errors.New("key destroyed")
	ErrClosed             = errors.New("closed")
	ErrConflict           = errors.New("conflict")
	ErrWrongPassphrase    = errors.New("wrong passphrase")
	ErrWeakPassphrase     = errors.New("weak passphrase")
	ErrCorrupt            = errors.New("corrupt")
	ErrUnsupportedVersion = errors.New("unsupported format version")
	ErrUnknownScheme      = errors.New("unknown URI scheme")
	ErrNotEmpty           = errors.New("store not empty")
	ErrKeysMissing        = errors.New("keys missing")
	ErrWrongRootKey       = errors.New("wrong root key")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrVerification       = errors.New("verification failed")
	ErrBackend            = errors.New("backend error")
)
