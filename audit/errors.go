package audit

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them (test
// with errors.Is); their messages name line numbers, sequence numbers and
// field names, never the content of an event or a line.
var (
	// ErrBufferFull is returned by an AsyncSink whose buffer is full when the
	// event's policy is Fail.
	ErrBufferFull = errors.New("audit: buffer full")
	// ErrClosed is returned by a sink or chain used after Close.
	ErrClosed = errors.New("audit: sink closed")
	// ErrBlocked is returned by a Detector for a reveal by a principal it has
	// blocked. The caller must not reveal.
	ErrBlocked = errors.New("audit: principal blocked")
	// ErrCorrupt reports a line or record that cannot be decoded: malformed
	// JSON, an unknown version or field, a value out of range.
	ErrCorrupt = errors.New("audit: corrupt record")
	// ErrTampered reports a chained log that fails verification: a record
	// modified, deleted, inserted or reordered, a bad MAC or signature.
	ErrTampered = errors.New("audit: log tampered")
	// ErrTruncated reports a chained log that ends before a checkpoint known
	// to exist. An error that wraps ErrTruncated also wraps ErrTampered.
	ErrTruncated = errors.New("audit: log truncated")
	// ErrNotChained reports a log given to Verify whose first line is a
	// plain event, as FileSink.Record and SQLSink.Record write without a
	// Chain: such a log carries no MACs, so it cannot be verified at all. It
	// is not a sign of tampering (a plain event after a chained record is:
	// that is ErrTampered).
	ErrNotChained = errors.New("audit: log is not chained")
	// ErrInvalidEvent reports an event that cannot be encoded (a time
	// outside the years 0 to 9999).
	ErrInvalidEvent = errors.New("audit: invalid event")
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

// Error implements error.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s at line %d (seq %d): %s", e.Err, e.Line, e.Seq, e.Reason)
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
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
