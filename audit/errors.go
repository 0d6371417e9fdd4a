package audit

import (
	"fmt"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
)

// Sentinel errors. Errors returned by this package wrap one of them (test
// with errors.Is); each is, or wraps, one of the module's class sentinels,
// so piiguard.ErrorCode classifies it (ErrClosed, ErrCorrupt and
// ErrTampered are piiguard's own). Their messages name line numbers,
// sequence numbers and field names, never the content of an event or a
// line.
var (
	// ErrBufferFull is returned by an AsyncSink whose buffer is full when the
	// event's policy is Fail.
	ErrBufferFull = errtext.Tagged(piiguard.ErrResourceExhausted, "audit: buffer full")
	// ErrClosed is returned by a sink or chain used after Close.
	ErrClosed = piiguard.ErrClosed
	// ErrBlocked is returned by a Detector for a reveal by a principal it has
	// blocked. The caller must not reveal.
	ErrBlocked = errtext.Tagged(piiguard.ErrDenied, "audit: principal blocked")
	// ErrCorrupt reports a line or record that cannot be decoded: malformed
	// JSON, an unknown version or field, a value out of range.
	ErrCorrupt = piiguard.ErrCorrupt
	// ErrTampered reports a chained log that fails verification: a record
	// modified, deleted, inserted or reordered, a bad MAC or signature.
	ErrTampered = piiguard.ErrTampered
	// ErrTruncated reports a chained log that ends before a checkpoint known
	// to exist. An error that wraps ErrTruncated also wraps ErrTampered.
	ErrTruncated = errtext.Tagged(piiguard.ErrTampered, "audit: log truncated")
	// ErrNotChained reports a log given to Verify whose first line is a
	// plain event, as FileSink.Record and SQLSink.Record write without a
	// Chain: such a log carries no MACs, so it cannot be verified at all. It
	// is not a sign of tampering (a plain event after a chained record is:
	// that is ErrTampered).
	ErrNotChained = errtext.Tagged(piiguard.ErrInvalidArgument, "audit: log is not chained")
	// ErrInvalidEvent reports an event that cannot be encoded (a time
	// outside the years 0 to 9999).
	ErrInvalidEvent = errtext.Tagged(piiguard.ErrInvalidArgument, "audit: invalid event")
)

// VerifyError names the first line of a chained log that failed
// verification. Err is ErrTampered, ErrTruncated or ErrCorrupt; errors.Is
// sees through it, and a truncation also matches ErrTampered.
type VerifyError struct {
	// Seq is the sequence number of the bad record: the one it claims, or the
	// one expected at that place when the line cannot be decoded (0 when
	// unknown).
	Seq uint64
	// Line is the 1-based line number in the stream (for a truncation, the
	// line after the last one).
	Line int64
	// Reason says what is wrong, in words that never quote the line.
	Reason string
	// Err is the sentinel this error wraps.
	Err error
}

// Error implements error: "audit: log tampered at line 7 (seq 6): …".
func (e *VerifyError) Error() string {
	what := "failed verification"
	switch e.Err {
	case ErrTampered:
		what = "tampered"
	case ErrTruncated:
		what = "truncated"
	case ErrCorrupt:
		what = "corrupt"
	case ErrNotChained:
		what = "not chained"
	}
	return fmt.Sprintf("audit: log %s at line %d (seq %d): %s", what, e.Line, e.Seq, e.Reason)
}

// Unwrap returns the sentinel, and ErrTampered too for a truncation.
func (e *VerifyError) Unwrap() []error {
	if e.Err == ErrTruncated {
		return []error{ErrTruncated, ErrTampered}
	}
	return []error{e.Err}
}

// corruptf returns an error wrapping ErrCorrupt. Its arguments must never be
// content taken from the input.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("audit: %w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// errSinkClosed is what a sink or chain returns after Close.
var errSinkClosed = errtext.Tagged(ErrClosed, "audit: sink closed")
