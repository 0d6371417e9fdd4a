package luhn

import (
	"errors"
	"fmt"
)

// ErrInvalidInput: the input is empty, has the wrong length, or holds a
// character that is not an ASCII digit. Errors wrapping it name the
// position, never the character.
var ErrInvalidInput = errors.New("invalid input")

// CheckDigit returns the Luhn check digit ('0' to '9') to append to payload,
// a non-empty string of ASCII digits: payload + string(CheckDigit(payload))
// is Luhn-valid. For example, the check digit of "411111111111111" is '1'.
func CheckDigit(payload string) (byte, error) {
	if payload == "" {
		return 0, fmt.Errorf("luhn: %w: empty payload", ErrInvalidInput)
	}
	sum, err := luhnSum(payload, true)
	if err != nil {
		return 0, err
	}
	return byte('0' + (10-sum%10)%10), nil
}

// Valid reports whether number, a string of at least two ASCII digits whose
// last digit is the check digit, passes the Luhn check. Any other input
// (empty, one digit, spaces, dashes, non-ASCII digits) is not valid: strip
// separators before calling it.
func Valid(number string) bool {
	if len(number) < 2 {
		return false
	}
	sum, err := luhnSum(number, false)
	return err == nil && sum%10 == 0
}

// luhnSum returns the Luhn sum of s, doubling every second digit from the
// right, starting with the rightmost one when doubleLast is true (s is a
// payload without its check digit) or the one before it (s ends with its
// check digit).
func luhnSum(s string, doubleLast bool) (int, error) {
	sum := 0
	double := doubleLast
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("luhn: %w: byte at index %d is not a digit", ErrInvalidInput, i)
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum, nil
}
