package multi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/piiguard/piiguard/kms"
)

// BackendError is one backend's failure in a Wrap or Unwrap.
type BackendError struct {
	Backend string // the backend's name
	Err     error  // its error, which wraps a kms sentinel
}

// Error is the error of a Wrap or Unwrap that the backends could not
// complete. It wraps exactly one sentinel, Class, chosen from the
// backends' errors as the package documentation says; errors.As gives
// each backend's error in Backends.
type Error struct {
	Op       string // "wrap" or "unwrap"
	Reason   string // what went wrong, in words
	Class    error  // the kms sentinel the error wraps
	Backends []BackendError
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Backends))
	for i, b := range e.Backends {
		parts[i] = fmt.Sprintf("%s: %v", b.Backend, b.Err)
	}
	return fmt.Sprintf("multi: %s: %s [%s]: %v", e.Op, e.Reason, strings.Join(parts, "; "), e.Class)
}

// Unwrap returns Class.
func (e *Error) Unwrap() error { return e.Class }

// sentinels are the kms errors a backend error can be classed as, in the
// order piiguard.ErrorCode looks for them.
var sentinels = []error{
	kms.ErrNotFound, kms.ErrAlreadyExists, kms.ErrPermissionDenied, kms.ErrUnavailable,
	kms.ErrInvalidCiphertext, kms.ErrDisabled, kms.ErrDestroyed, kms.ErrClosed,
	kms.ErrConflict, kms.ErrWrongPassphrase, kms.ErrWeakPassphrase, kms.ErrCorrupt,
	kms.ErrUnsupportedVersion, kms.ErrUnknownScheme, kms.ErrNotEmpty,
	kms.ErrInvalidArgument, kms.ErrVerification, kms.ErrBackend,
}

func sentinelOf(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return kms.ErrBackend
}

// newError classes the backends' failures:
//
//   - for an unwrap, kms.ErrInvalidCiphertext if every backend asked said
//     so (the container is bad for all of them);
//   - kms.ErrUnavailable if any backend was unavailable (a retry may find
//     it back);
//   - otherwise the class of the first backend's error in backend order.
func (d *Driver) newError(op, reason string, failed []BackendError, unwrap bool) error {
	// Report in backend order, whatever order the answers came in.
	ordered := make([]BackendError, 0, len(failed))
	for _, b := range d.backends {
		for _, f := range failed {
			if f.Backend == b.Name {
				ordered = append(ordered, f)
			}
		}
	}
	class := error(nil)
	allInvalid, anyUnavailable := len(ordered) > 0, false
	for _, f := range ordered {
		s := sentinelOf(f.Err)
		if s != kms.ErrInvalidCiphertext {
			allInvalid = false
		}
		if s == kms.ErrUnavailable {
			anyUnavailable = true
		}
	}
	switch {
	case unwrap && allInvalid:
		class = kms.ErrInvalidCiphertext
	case anyUnavailable:
		class = kms.ErrUnavailable
	case len(ordered) > 0:
		// The first error that says more than "invalid" (in an unwrap, a
		// backend's invalid answer next to another's refusal says little).
		class = sentinelOf(ordered[0].Err)
		for _, f := range ordered {
			if s := sentinelOf(f.Err); s != kms.ErrInvalidCiphertext {
				class = s
				break
			}
		}
	default:
		class = kms.ErrBackend
	}
	return &Error{Op: op, Reason: reason, Class: class, Backends: ordered}
}
