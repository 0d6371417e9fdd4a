package rootcipher

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func newTestCipher() (*Cipher, []byte) {
	var id [KeyIDSize]byte
	copy(id[:], "0123456789abcdef")
	key := bytes.Repeat([]byte{7}, KeySize)
	return New(id, key, "test: root key"), key
}

// TestCloseZeroesKey: the drivers over a Cipher (kms/localkey,
// kms/insecuremem) hand it their key and close it in their Close.
func TestCloseZeroesKey(t *testing.T) {
	c, key := newTestCipher()
	require.Len(t, key, KeySize)
	c.Close()
	assert.Equal(t, make([]byte, KeySize), key, "Close must zero the root key")
	assert.Nil(t, c.key)
	c.Close()
	_, err := c.Wrap(context.Background(), []byte("x"), nil)
	require.ErrorIs(t, err, kms.ErrClosed)
	assert.Equal(t, "test: root key: wrap: closed", err.Error())
}

// TestWrapFormat pins the wrap format: version byte, key check, nonce,
// tag, and the header in the associated data.
func TestWrapFormat(t *testing.T) {
	c, _ := newTestCipher()
	defer c.Close()
	ctx := context.Background()
	ct, err := c.Wrap(ctx, []byte("abc"), []byte("ad"))
	require.NoError(t, err)
	require.Len(t, ct, overhead+3)
	assert.Equal(t, byte(formatV1), ct[0])
	assert.Equal(t, []byte("0123"), ct[1:5])
	pt, err := c.Unwrap(ctx, ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "abc", string(pt))

	_, err = c.Unwrap(ctx, ct, []byte("other"))
	require.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	bad := bytes.Clone(ct)
	bad[0] = 2
	_, err = c.Unwrap(ctx, bad, []byte("ad"))
	assert.ErrorContains(t, err, "unknown format byte")
	bad = bytes.Clone(ct)
	bad[1] ^= 1
	_, err = c.Unwrap(ctx, bad, []byte("ad"))
	assert.ErrorContains(t, err, "made under another root key")
	_, err = c.Unwrap(ctx, ct[:overhead-1], []byte("ad"))
	assert.ErrorContains(t, err, "too short")
}
