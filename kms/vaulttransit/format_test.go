package vaulttransit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// TestWireFormat pins the version 1 format documented in format.go.
func TestWireFormat(t *testing.T) {
	assert.Equal(t, []byte{0x01}, sealInner(nil), "the empty secret is sent as one byte")
	assert.Equal(t, []byte{0x01, 'k', 'e', 'y'}, sealInner([]byte("key")))

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

	ct, v, err := openOuter([]byte("\x01vault:v12:AAAA"))
	require.NoError(t, err)
	assert.Equal(t, "vault:v12:AAAA", ct)
	assert.Equal(t, 12, v)
	assert.Equal(t, []byte("\x01vault:v3:AAAA"), sealOuter("vault:v3:AAAA"))
	for name, c := range map[string]string{
		"nil":          "",
		"version only": "\x01",
		"version 0":    "\x00vault:v1:AAAA",
		"version 2":    "\x02vault:v1:AAAA",
		"v0":           "\x01vault:v0:AAAA",
		"no base64":    "\x01vault:v1:",
		"unused bits":  "\x01vault:v1:AAB=",
		"too long":     "\x01vault:v1:" + strings.Repeat("A", maxCiphertext),
	} {
		_, _, err := openOuter([]byte(c))
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}

func TestEncryptBody(t *testing.T) {
	assert.Equal(t, `{"plaintext":"AQ=="}`, string(encryptBody([]byte{1}, nil)))
	assert.Equal(t, `{"plaintext":"AWtleQ==","associated_data":"cm93ADc="}`, string(encryptBody([]byte("\x01key"), []byte("row\x007"))))
}
