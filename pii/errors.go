package pii

import (
	"errors"
	"fmt"
	"strings"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Sentinel errors, for errors.Is. Errors about one field are returned as a
// *FieldError wrapping one of them; errors from the key ring (a disabled or
// destroyed key version, an unreachable KMS) wrap kms's error itself, so
// errors.Is and errors.As reach it. Each sentinel wraps one of the module's
// class sentinels, so piiguard.ErrorCode classifies every error of this
// package (ErrInvalidCiphertext is piiguard.ErrInvalidCiphertext itself, the
// value kms wraps too). No error of this package holds a value: messages
// name record types, field paths, tag text and key IDs only.
var (
	// ErrInvalidRecord: the value given to Seal, Open, Redact or a batch
	// form is nil, not a pointer to a struct (or a slice of them), or a nil
	// pointer.
	ErrInvalidRecord = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: invalid record")
	// ErrInvalidTag: a `pii` struct tag is malformed: an unknown kind,
	// option or class, a search= sibling that is missing or not a plain
	// string field, two id fields, an option given twice.
	ErrInvalidTag = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: invalid tag")
	// ErrUnsupportedType: a tagged field has a type that cannot hold a
	// protected value (use string, []byte, *string, a type whose underlying
	// type is one of those, or Value[T]), or a tagged record sits behind an
	// interface value, which Seal and Open do not follow.
	ErrUnsupportedType = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: unsupported field type")
	// ErrUnexportedField: a tagged field, or a field that leads to tagged
	// fields, is unexported, so this package cannot set it.
	ErrUnexportedField = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: unexported field")
	// ErrMissingID: a record with protected fields has no id field, or its
	// id field is empty (or zero) when a value must be bound to it.
	ErrMissingID = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: missing record ID")
	// ErrCycle: the record reaches the same struct twice, through a cyclic
	// or shared pointer, slice or map.
	ErrCycle = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: cyclic or shared reference")
	// ErrTooLarge: a value is larger than MaxValueSize bytes.
	ErrTooLarge = errtext.Tagged(piiguard.ErrResourceExhausted, "pii: value too large")
	// ErrPlaintext: Open found plaintext where a ciphertext belongs, and
	// Options.MigrationModeAllowPlaintext is off; or a plaintext value was
	// about to be written to a database.
	ErrPlaintext = errtext.Tagged(piiguard.ErrCorrupt, "pii: plaintext where a protected value belongs")
	// ErrInvalidCiphertext: a protected value is malformed, truncated,
	// tampered with, made under a key this key ring does not hold, or bound
	// to another record type, field or record ID.
	ErrInvalidCiphertext = piiguard.ErrInvalidCiphertext
	// ErrUnsupportedFormat: a protected value was written in a format
	// version this release does not know (a newer release wrote it).
	ErrUnsupportedFormat = errtext.Tagged(piiguard.ErrUnsupportedVersion, "pii: unsupported ciphertext format version")
	// ErrNotSearchable: SearchTerms or Match named a field that has no
	// search= index.
	ErrNotSearchable = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: field has no blind index")
	// ErrNoTokenizer: a field is tagged token=NAME and Options.Tokenizers
	// has no tokenizer of that name.
	ErrNoTokenizer = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: no tokenizer")
	// ErrSealed: a Value holds a ciphertext (or a mask) and was asked for
	// its plaintext; Open the record first.
	ErrSealed = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: value is sealed")
	// ErrAudit: the audit sink failed to record an event of Open (a
	// reveal, a mask or a denial) or of SearchTerms; nothing was revealed.
	ErrAudit = errtext.Tagged(piiguard.ErrUnavailable, "pii: audit sink failed")
	// ErrNoChecker: New was given no Options.Checker. Access control is
	// never off by default: pass access.InsecureAllowAll to turn it off.
	ErrNoChecker = errtext.Tagged(piiguard.ErrInvalidArgument, "pii: no access checker")
	// ErrAccessCheck: the Checker returned an error (other than
	// access.ErrNoPrincipal, which is a denial) for a field Open was about
	// to reveal; Open failed closed and revealed nothing. It wraps the
	// Checker's error.
	ErrAccessCheck = errtext.Tagged(piiguard.ErrUnavailable, "pii: access check failed")
)

// FieldError is an error about one field of one record type. Path is the
// field's path inside the record ("Email", "Addresses[].Street"), the same
// path that is bound into the field's associated data.
type FieldError struct {
	RecordType string // the record's name (its Go type name or record=)
	Path       string // the field path
	Err        error  // wraps one of this package's or kms's sentinels
}

func (e *FieldError) Error() string {
	var b strings.Builder
	msg := e.Err.Error()
	// Keep one "pii: " prefix.
	msg = strings.TrimPrefix(msg, "pii: ")
	b.WriteString("pii: ")
	b.WriteString(e.RecordType)
	if e.Path != "" {
		b.WriteByte('.')
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(msg)
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(record, path string, err error) error {
	return &FieldError{RecordType: record, Path: path, Err: err}
}

// joined is an error with its own message that wraps several errors.
type joined struct {
	msg  string
	errs []error
}

func (e *joined) Error() string   { return e.msg }
func (e *joined) Unwrap() []error { return e.errs }

// decryptErr classifies an error of the field AEAD's Decrypt. Errors from
// the key ring keep their kms sentinel (a disabled or destroyed version,
// an unreachable store); an authentication failure also wraps
// ErrInvalidCiphertext. The text of an unclassified error is dropped.
func decryptErr(err error, keyID uint32) error {
	switch {
	case errors.Is(err, kms.ErrNotFound):
		return &joined{fmt.Sprintf("%v: made with key version %d, which the field keyset does not have", ErrInvalidCiphertext, keyID), []error{ErrInvalidCiphertext, err}}
	case errors.Is(err, kms.ErrInvalidCiphertext):
		return &joined{notHere, []error{ErrInvalidCiphertext, err}}
	case piiguard.Classified(err):
		return err
	}
	return &joined{notHere, []error{ErrInvalidCiphertext}}
}

const notHere = "pii: invalid ciphertext: it does not open as this record's type, field and ID (copied from elsewhere, or tampered with)"

// errorCode is the class of an error, for the Error of an audit event: the
// module's one classification.
func errorCode(err error) string { return string(piiguard.ErrorCode(err)) }
