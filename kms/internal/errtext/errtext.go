// Package errtext holds the helpers the cloud KMS backends (awskms, gcpkms,
// vaulttransit) share to put a service's own words into an error without
// letting them run wild: one line, bounded length, valid UTF-8.
package errtext

import (
	"errors"
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
