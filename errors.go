package piiguard

import (
	"context"
	"errors"
)

// Code is the class of an error, one of a fixed set, for callers that
// branch on what went wrong, for metrics and for the error field of audit
// events. ErrorCode classifies any error of any piiguard package.
type Code string

// The codes. Their strings are stable: audit logs and dashboards keep them.
const (
	CodeOK                 Code = "ok"
	CodeCanceled           Code = "canceled"
	CodeDeadlineExceeded   Code = "deadline_exceeded"
	CodeNotFound           Code = "not_found"
	CodeAlreadyExists      Code = "already_exists"
	CodePermissionDenied   Code = "permission_denied"
	CodeDenied             Code = "denied"
	CodeUnavailable        Code = "unavailable"
	CodeInvalidCiphertext  Code = "invalid_ciphertext"
	CodeDisabled           Code = "disabled"
	CodeDestroyed          Code = "destroyed"
	CodeClosed             Code = "closed"
	CodeConflict           Code = "conflict"
	CodeWrongPassphrase    Code = "wrong_passphrase"
	CodeWeakPassphrase     Code = "weak_passphrase"
	CodeCorrupt            Code = "corrupt"
	CodeTampered           Code = "tampered"
	CodeUnsupportedVersion Code = "unsupported_version"
	CodeUnknownScheme      Code = "unknown_scheme"
	CodeNotEmpty           Code = "not_empty"
	CodeKeysMissing        Code = "keys_missing"
	CodeWrongRootKey       Code = "wrong_root_key"
	CodeResourceExhausted  Code = "resource_exhausted"
	CodeInvalidArgument    Code = "invalid_argument"
	CodeVerification       Code = "verification_failed"
	CodeInternal           Code = "internal"
)

// The class sentinels, one per code. Every error a piiguard package returns
// wraps at least one of them (or a context error), so that errors.Is and
// ErrorCode classify it; a package's own sentinels (kms.ErrKeysMissing,
// access.ErrUnknownRole, …) are either these same values under the
// package's name or errors of their own that wrap one of these. Their
// messages are bare words: the package that returns one says where.
var (
	// ErrNotFound: the keyset, version, subject key, token, record or
	// backend key does not exist.
	ErrNotFound = newClass(CodeNotFound, "not found")
	// ErrAlreadyExists: something of that name exists already.
	ErrAlreadyExists = newClass(CodeAlreadyExists, "already exists")
	// ErrPermissionDenied: a backend (KMS, HSM, database) refused the
	// caller's credentials.
	ErrPermissionDenied = newClass(CodePermissionDenied, "permission denied")
	// ErrDenied: an access policy denied the operation to the principal.
	ErrDenied = newClass(CodeDenied, "denied")
	// ErrUnavailable: a backend or store could not be reached or asked the
	// caller to slow down. It is the only class that is retried.
	ErrUnavailable = newClass(CodeUnavailable, "unavailable")
	// ErrInvalidCiphertext: a ciphertext or wrapped key failed to
	// authenticate: tampered with, truncated, bound to other associated
	// data, or made under another key.
	ErrInvalidCiphertext = newClass(CodeInvalidCiphertext, "invalid ciphertext")
	// ErrDisabled: the key version (or backend key) is disabled; it may be
	// enabled again.
	ErrDisabled = newClass(CodeDisabled, "key disabled")
	// ErrDestroyed: the key was destroyed; what it protected can never be
	// decrypted again.
	ErrDestroyed = newClass(CodeDestroyed, "key destroyed")
	// ErrClosed: the object was used after Close.
	ErrClosed = newClass(CodeClosed, "closed")
	// ErrConflict: a concurrent writer changed the record first; the
	// operation can be retried on fresh state.
	ErrConflict = newClass(CodeConflict, "conflict")
	// ErrWrongPassphrase: the passphrase does not open the key file.
	ErrWrongPassphrase = newClass(CodeWrongPassphrase, "wrong passphrase")
	// ErrWeakPassphrase: a passphrase was refused for being empty or weak.
	ErrWeakPassphrase = newClass(CodeWeakPassphrase, "weak passphrase")
	// ErrCorrupt: a file, record, line or token is truncated or malformed.
	ErrCorrupt = newClass(CodeCorrupt, "corrupt")
	// ErrTampered: a tamper-evident log failed verification.
	ErrTampered = newClass(CodeTampered, "tampered")
	// ErrUnsupportedVersion: written by a newer piiguard, or in a format
	// this one does not know.
	ErrUnsupportedVersion = newClass(CodeUnsupportedVersion, "unsupported format version")
	// ErrUnknownScheme: no backend is registered for a URI's scheme.
	ErrUnknownScheme = newClass(CodeUnknownScheme, "unknown URI scheme")
	// ErrNotEmpty: a restore into a store that holds keysets.
	ErrNotEmpty = newClass(CodeNotEmpty, "store not empty")
	// ErrKeysMissing: keys that existed are gone; piiguard never makes new
	// ones in their place.
	ErrKeysMissing = newClass(CodeKeysMissing, "keys missing")
	// ErrWrongRootKey: the root key is not the one the key store was made
	// under.
	ErrWrongRootKey = newClass(CodeWrongRootKey, "wrong root key")
	// ErrResourceExhausted: a bounded buffer is full or a value is larger
	// than allowed.
	ErrResourceExhausted = newClass(CodeResourceExhausted, "resource exhausted")
	// ErrInvalidArgument: a name, URI, option, tag, type or value is not
	// acceptable.
	ErrInvalidArgument = newClass(CodeInvalidArgument, "invalid argument")
	// ErrVerification: a recovery drill found a key that does not work.
	ErrVerification = newClass(CodeVerification, "verification failed")
	// ErrInternal: a backend or library failed in a way it did not classify.
	ErrInternal = newClass(CodeInternal, "internal error")
)

// class is a class sentinel.
type class struct {
	code Code
	msg  string
}

func (c *class) Error() string { return c.msg }

func newClass(code Code, msg string) error { return &class{code: code, msg: msg} }

// rank orders the classes for an error that wraps several: the first one
// in this list that an error wraps gives its code (a backend error that
// wraps an invalid ciphertext is an invalid ciphertext).
var rank = [...]error{
	ErrNotFound, ErrAlreadyExists, ErrPermissionDenied, ErrDenied, ErrUnavailable,
	ErrInvalidCiphertext, ErrDisabled, ErrDestroyed, ErrClosed, ErrConflict,
	ErrWrongPassphrase, ErrWeakPassphrase, ErrCorrupt, ErrTampered,
	ErrUnsupportedVersion, ErrUnknownScheme, ErrNotEmpty, ErrKeysMissing,
	ErrWrongRootKey, ErrResourceExhausted, ErrInvalidArgument, ErrVerification,
	ErrInternal,
}

// ErrorCode returns the class of err: CodeOK for nil; CodeCanceled or
// CodeDeadlineExceeded for an error wrapping a context error; else the code
// of the class sentinel err wraps (the first in the order of the list
// above, when it wraps several); and CodeInternal for an error that wraps
// none, which no piiguard package returns.
func ErrorCode(err error) Code {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	}
	for _, c := range rank {
		if errors.Is(err, c) {
			return c.(*class).code
		}
	}
	return CodeInternal
}

// Classified reports whether err wraps a class sentinel or a context
// error, that is whether ErrorCode's answer comes from err itself.
func Classified(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, c := range rank {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
