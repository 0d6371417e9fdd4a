package localkey_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

func TestCheckPassphraseRefusesWeakPassphrases(t *testing.T) {
	weak := map[string]string{
		"nil":                  "",
		"empty":                "",
		"11 characters":        "Tr0ub4dor&3",
		"11 runes, more bytes": "ééééabcdxyz",
		"one character":        "aaaaaaaaaaaaaaaa",
		"four distinct":        "abcdabcdddddaaaa",
		"repeat of 5":          "abcdeabcdeab",
		"repeat of 6":          "passw0passw0",
		"long repeat":          strings.Repeat("correct-horse", 4),
		"ascending run":        "abcdefghijklmnop",
		"descending run":       "zyxwvutsrqpo",
		"digit run":            "0123456789:;",
		"step-2 run":           "acegikmoqsuw",
		"unicode run":          "αβγδεζηθικλμ",
	}
	for name, p := range weak {
		t.Run(name, func(t *testing.T) {
			var b []byte
			if name != "nil" {
				b = []byte(p)
			}
			err := localkey.CheckPassphrase(b)
			assert.ErrorIs(t, err, kms.ErrWeakPassphrase)
			assert.Equal(t, piiguard.CodeWeakPassphrase, piiguard.ErrorCode(err))
			if p != "" {
				assert.NotContains(t, err.Error(), p, "the error must not quote the passphrase")
			}
		})
	}
}

func TestCheckPassphraseAcceptsReasonablePassphrases(t *testing.T) {
	for _, p := range []string{
		"correct horse battery staple",
		"Tr0ub4dor&3x",
		"abcdeabcdeabX", // a repeat with a change is not a repeat
		"abcdefghijkla", // a run with a change is not a run
		"пароль-надёжный",
		"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf5", // not UTF-8: bytes count
	} {
		assert.NoError(t, localkey.CheckPassphrase([]byte(p)), "%q", p)
	}
}
