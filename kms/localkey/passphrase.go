package localkey

import (
	"fmt"
	"unicode/utf8"

	"github.com/piiguard/piiguard/kms"
)

// Passphrase policy for new root key files.
//
// CheckPassphrase is a floor, not a strength estimator: it refuses the
// passphrases that are obviously guessable, so that a mistake in a
// deployment script (an empty variable, "changeme", "aaaaaaaaaaaa") fails at
// creation instead of protecting the root key with nothing. A passphrase is
// refused, with an error wrapping kms.ErrWeakPassphrase, when
//
//   - it is empty;
//   - it has fewer than MinPassphraseChars characters (UTF-8 characters; a
//     byte that is not valid UTF-8 counts as one character);
//   - it has fewer than MinPassphraseDistinct distinct characters;
//   - it is a repeat: two or more copies of a shorter string, the last copy
//     possibly cut short ("abcdeabcdeab", "passpasspass");
//   - it is a run: every character is the previous one plus the same step
//     ("abcdefghijkl", "zyxwvutsrqpo", "acegikmoqsuw").
//
// The bytes are used as given: no Unicode normalisation is applied, so an
// application that reads passphrases typed by people should normalise them
// (NFC) itself, the same way every time. Opening an existing key file does
// not apply the policy, so that a stricter policy in a later release never
// locks anyone out of a key file they already have.
const (
	// MinPassphraseChars is the minimum length of a passphrase, in
	// characters.
	MinPassphraseChars = 12
	// MinPassphraseDistinct is the minimum number of distinct characters in
	// a passphrase.
	MinPassphraseDistinct = 5
)

// CheckPassphrase reports whether passphrase meets the policy for new root
// key files (see MinPassphraseChars). It returns nil, or an error wrapping
// kms.ErrWeakPassphrase that says which rule failed and never contains
// the passphrase. Create calls it; command-line tools can call it
// before asking for the passphrase a second time.
func CheckPassphrase(passphrase []byte) error {
	reason := weakness(passphrase)
	if reason == "" {
		return nil
	}
	return fmt.Errorf("localkey: passphrase refused: %s: %w", reason, kms.ErrWeakPassphrase)
}

// weakness returns why passphrase is refused, or "" if it is not.
func weakness(passphrase []byte) string {
	if len(passphrase) == 0 {
		return "empty"
	}
	// Split into characters; an invalid byte is a character of its own,
	// kept apart from U+FFFD by a negative code.
	chars := make([]rune, 0, len(passphrase))
	for i := 0; i < len(passphrase); {
		r, size := utf8.DecodeRune(passphrase[i:])
		if r == utf8.RuneError && size == 1 {
			r = -1 - rune(passphrase[i])
		}
		chars = append(chars, r)
		i += size
	}
	n := len(chars)
	if n < MinPassphraseChars {
		return fmt.Sprintf("fewer than %d characters", MinPassphraseChars)
	}
	distinct := make(map[rune]struct{}, n)
	for _, r := range chars {
		distinct[r] = struct{}{}
	}
	if len(distinct) < MinPassphraseDistinct {
		return fmt.Sprintf("fewer than %d distinct characters", MinPassphraseDistinct)
	}
	for period := 1; period <= n/2; period++ {
		if hasPeriod(chars, period) {
			return "a repeated pattern"
		}
	}
	step := chars[1] - chars[0]
	run := true
	for i := 2; i < n; i++ {
		if chars[i]-chars[i-1] != step {
			run = false
			break
		}
	}
	if run {
		return "a run of consecutive characters"
	}
	return ""
}

// hasPeriod reports whether chars[i] == chars[i-period] for every i.
func hasPeriod(chars []rune, period int) bool {
	for i := period; i < len(chars); i++ {
		if chars[i] != chars[i-period] {
			return false
		}
	}
	return true
}
