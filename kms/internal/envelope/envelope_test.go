package envelope

import (
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
