package gcpkms

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/envelope"
)

// TestWireFormat pins the version 1 format documented in format.go.
func TestWireFormat(t *testing.T) {
	assert.Equal(t, []byte{0x01}, sealInner(nil), "the empty secret is sent as one byte")
	assert.Equal(t, []byte{0x01, 'k', 'e', 'y'}, sealInner([]byte("key")))
	assert.Equal(t, []byte{0x01, 0xaa, 0xbb}, sealOuter([]byte{0xaa, 0xbb}))

	got, err := openInner([]byte{0x01, 'k', 'e', 'y'})
	require.NoError(t, err)
	assert.Equal(t, []byte("key"), got)
	got, err = openInner([]byte{0x01})
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = openInner(nil)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	_, err = openInner([]byte{0x02, 'k'})
	assert.ErrorIs(t, err, kms.ErrUnsupportedVersion)

	blob, err := openOuter([]byte{0x01, 0xaa, 0xbb})
	require.NoError(t, err)
	assert.Equal(t, []byte{0xaa, 0xbb}, blob)
	for name, c := range map[string][]byte{
		"nil":          nil,
		"version only": {0x01},
		"version 0":    {0x00, 0xaa},
		"version 2":    {0x02, 0xaa},
		"too long":     make([]byte, 2+maxBlob),
	} {
		if name == "too long" {
			c[0] = envelope.V1
		}
		_, err := openOuter(c)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}
