package pkcs11

import (
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// The wrap format, version 1 (see the package documentation):
//
//	0x01 || IV (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes)
//
// The GCM associated data is the version byte followed by the caller's
// associated data, so that the version is authenticated too.
const (
	formatV1  byte = 0x01
	ivSize         = 12
	tagSize        = 16
	tagBits        = 8 * tagSize
	overhead       = 1 + ivSize + tagSize
	maxSealed      = maxPlaintext + tagSize
	// maxPlaintext bounds what Wrap accepts: root keys wrap data keys (32
	// bytes) and other small secrets, never bulk data.
	maxPlaintext = 64 << 10
)

// sealedBlob is a parsed version 1 ciphertext. Its slices alias the input.
type sealedBlob struct {
	iv     []byte // ivSize bytes
	sealed []byte // GCM ciphertext followed by its tag: at least tagSize bytes
}

// parseBlob splits a ciphertext into its parts. It checks the version and
// the lengths only; authenticity is the token's job. Every error wraps
// kms.ErrInvalidCiphertext: a ciphertext of an unknown version is
// indistinguishable from a damaged one, since the version is authenticated.
func parseBlob(b []byte) (sealedBlob, error) {
	switch {
	case len(b) == 0:
		return sealedBlob{}, fmt.Errorf("empty: %w", kms.ErrInvalidCiphertext)
	case b[0] != formatV1:
		return sealedBlob{}, fmt.Errorf("unknown format version byte 0x%02x: %w", b[0], kms.ErrInvalidCiphertext)
	case len(b) < overhead:
		return sealedBlob{}, fmt.Errorf("too short (%d bytes, at least %d): %w", len(b), overhead, kms.ErrInvalidCiphertext)
	case len(b) > 1+ivSize+maxSealed:
		return sealedBlob{}, fmt.Errorf("too long (%d bytes, at most %d): %w", len(b), 1+ivSize+maxSealed, kms.ErrInvalidCiphertext)
	}
	return sealedBlob{iv: b[1 : 1+ivSize : 1+ivSize], sealed: b[1+ivSize:]}, nil
}

// marshal returns the version 1 encoding of c.
func (c sealedBlob) marshal() []byte {
	out := make([]byte, 0, 1+len(c.iv)+len(c.sealed))
	out = append(out, formatV1)
	out = append(out, c.iv...)
	return append(out, c.sealed...)
}

// gcmAD returns the GCM associated data for a version 1 ciphertext bound
// to the caller's associated data.
func gcmAD(associatedData []byte) []byte {
	ad := make([]byte, 0, 1+len(associatedData))
	ad = append(ad, formatV1)
	return append(ad, associatedData...)
}
