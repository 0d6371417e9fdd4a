// Package errtext holds the helpers piiguard's packages (kms and its
// backends, the SQL stores, cmd/piiguard) share to word their errors: a
// service's own words put into an error without letting them run wild (one
// line, bounded length, valid UTF-8), and a sentinel wrapped without being
// said twice.
package errtext

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the most bytes of service-provided text an error keeps.
const MaxLen = 300

// Safe keeps a service-provided string to one line of at most MaxLen bytes
// (cut at a character boundary, then "…"): control characters become
// spaces and invalid UTF-8 becomes U+FFFD. It does not judge what the text
// says; callers quote only messages known to hold no request data.
func Safe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxLen {
		return s
	}
	cut := MaxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// RootCause returns the innermost error of err's chain of single wraps.
func RootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Tagged returns an error that reads as the formatted message alone and
// wraps sentinel, so that errors.Is and piiguard.ErrorCode still find it, as
// well as every error the format wraps with %w. Use it where the message
// already says what is wrong, so that the sentinel's words after it (":
// invalid argument", "(permission denied)") would only say it again.
func Tagged(sentinel error, format string, args ...any) error {
	return &tagged{msg: fmt.Errorf(format, args...), sentinel: sentinel}
}

type tagged struct {
	msg      error // the message, and what it wraps
	sentinel error // wrapped, not printed
}

func (e *tagged) Error() string   { return e.msg.Error() }
func (e *tagged) Unwrap() []error { return []error{e.sentinel, e.msg} }

// Says reports whether the message of err already holds the words of
// sentinel (case-insensitively), as "sql: database is closed" holds
// "closed" and a file system's "permission denied" holds
// kms.ErrPermissionDenied's: printing the sentinel before it would repeat it.
func Says(err, sentinel error) bool {
	return strings.Contains(strings.ToLower(err.Error()), strings.ToLower(sentinel.Error()))
}
