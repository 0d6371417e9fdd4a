package ff1

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers classify with errors.Is. Messages name lengths, positions,
// radixes and sizes — never a numeral, a character, a tweak or key bytes.
var (
	// ErrInvalidParams: a constructor argument or option is out of range (key
	// size, block size, radix, alphabet, Options), or a string call was given
	// an alphabet whose size is not the cipher's radix. It is a programming
	// error, not bad data.
	ErrInvalidParams = errors.New("invalid parameters")
	// ErrDomainTooSmall: radix^length is below the 1,000,000 minimum of
	// NIST SP 800-38G Rev. 1 (or the length is below 2). The input is too
	// short to be encrypted safely; pad it or use a larger alphabet.
	ErrDomainTooSmall = errors.New("domain too small")
	// ErrInvalidInput: a numeral is not below the radix, a character is not
	// in the alphabet, the input is longer than the cipher's maximum length,
	// or the tweak is longer than its maximum. Errors about one position are
	// an *InputError, which wraps ErrInvalidInput.
	ErrInvalidInput = errors.New("invalid input")
)

// InputError reports the position of a numeral or character that is not in
// the cipher's domain. It never holds the offending value. It wraps
// ErrInvalidInput; use errors.As to read the position.
type InputError struct {
	// Index is the 0-based position of the offending element: a numeral
	// index for the []uint16 API, a character (rune) index for the string
	// API.
	Index int
	// Character is true when the input was a string (the element is a
	// character outside the alphabet) and false for a numeral not below the
	// radix.
	Character bool
}

// Error implements error. The message names the position, never the value.
func (e *InputError) Error() string {
	if e.Character {
		return fmt.Sprintf("ff1: %v: character at index %d is not in the alphabet", ErrInvalidInput, e.Index)
	}
	return fmt.Sprintf("ff1: %v: numeral at index %d is not below the radix", ErrInvalidInput, e.Index)
}

// Unwrap returns ErrInvalidInput.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("ff1: %w: "+format, append([]any{sentinel}, args...)...)
}
