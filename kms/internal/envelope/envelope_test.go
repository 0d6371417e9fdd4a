package envelope

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func TestEnvelopeV1(t *testing.T) {
	assert.Equal(t, []byte{0x01}, SealInner(nil), "the empty secret is sent as one byte")
	assert.Equal(t, []byte{0x01, 'k'}, SealInner([]byte("k")))
	assert.Equal(t, []byte{0x01, 0xaa}, SealOuter([]byte{0xaa}))
	assert.Equal(t, []byte{0x01, 'v'}, SealOuter("v"))

	got, err := OpenInner([]byte{0x01, 'k'})
	require.NoError(t, err)
	assert.Equal(t, []byte("k"), got)
	_, err = OpenInner(nil)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	_, err = OpenInner([]byte{0x02, 'k'})
	assert.ErrorIs(t, err, kms.ErrUnsupportedVersion)

	blob, err := OpenOuter([]byte{0x01, 0xaa, 0xbb}, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{0xaa, 0xbb}, blob)
	for _, bad := range [][]byte{nil, {0x01}, {0x02, 0xaa}} {
		_, err := OpenOuter(bad, 0)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	}
	_, err = OpenOuter([]byte{0x01, 1, 2, 3}, 2)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, "longer than the service accepts")
}

// FuzzOpen feeds both parsers arbitrary bytes: they never panic, refuse
// with a classified error, and round-trip what they accept.
func FuzzOpen(f *testing.F) {
	for _, s := range [][]byte{nil, {0x01}, {0x01, 0xaa}, {0x02, 0xaa}, {0x00}, SealOuter([]byte("blob"))} {
		f.Add(s, 0)
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxLen int) {
		if blob, err := OpenOuter(b, maxLen); err != nil {
			if !errors.Is(err, kms.ErrInvalidCiphertext) {
				t.Fatalf("OpenOuter: unclassified error %v", err)
			}
		} else {
			if maxLen > 0 && len(blob) > maxLen {
				t.Fatalf("OpenOuter returned %d bytes over a limit of %d", len(blob), maxLen)
			}
			if !bytes.Equal(SealOuter(blob), b) {
				t.Fatal("OpenOuter does not invert SealOuter")
			}
		}
		if secret, err := OpenInner(b); err != nil {
			if !errors.Is(err, kms.ErrInvalidCiphertext) && !errors.Is(err, kms.ErrUnsupportedVersion) {
				t.Fatalf("OpenInner: unclassified error %v", err)
			}
		} else if !bytes.Equal(SealInner(secret), b) {
			t.Fatal("OpenInner does not invert SealInner")
		}
	})
}
