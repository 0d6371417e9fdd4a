// Package envelope is the wire format shared by the cloud KMS backends
// (awskms, gcpkms, vaulttransit): a version byte before the service's
// ciphertext, and a version byte before the secret the service encrypts.
//
//	wrapped   = 0x01 || service ciphertext
//	encrypted = 0x01 || secret          (what the service is asked to encrypt)
//
// The inner byte means the service never sees an empty plaintext (AWS KMS
// refuses one) and lets a later format be told apart after decryption. Each
// backend documents and pins the format in its own package.
package envelope

import (
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// V1 is the version byte of both layers.
const V1 = 0x01

// SealInner returns the plaintext sent to the service for secret. The
// caller clears it after use.
func SealInner(secret []byte) []byte {
	in := make([]byte, 1+len(secret))
	in[0] = V1
	copy(in[1:], secret)
	return in
}

// OpenInner checks and strips the inner version byte of what the service
// decrypted, returning a copy owned by the caller.
func OpenInner(pt []byte) ([]byte, error) {
	switch {
	case len(pt) == 0:
		return nil, fmt.Errorf("decrypted payload is empty: %w", kms.ErrInvalidCiphertext)
	case pt[0] != V1:
		return nil, fmt.Errorf("decrypted payload has format version %d, this build knows %d: %w", pt[0], V1, kms.ErrUnsupportedVersion)
	}
	out := make([]byte, len(pt)-1)
	copy(out, pt[1:])
	return out, nil
}

// SealOuter returns the wrapped form of the service's ciphertext.
func SealOuter[B ~[]byte | ~string](ciphertext B) []byte {
	out := make([]byte, 1+len(ciphertext))
	out[0] = V1
	copy(out[1:], ciphertext)
	return out
}

// OpenOuter returns the service ciphertext inside a wrapped secret, at
// most maxLen bytes long (0: no limit). Anything that is not a version 1
// wrapped secret fails with ErrInvalidCiphertext: a flipped version byte is
// indistinguishable from tampering.
func OpenOuter(wrapped []byte, maxLen int) ([]byte, error) {
	switch {
	case len(wrapped) < 2:
		return nil, fmt.Errorf("wrapped key is too short (%d bytes): %w", len(wrapped), kms.ErrInvalidCiphertext)
	case wrapped[0] != V1:
		return nil, fmt.Errorf("wrapped key has unknown format byte 0x%02x: %w", wrapped[0], kms.ErrInvalidCiphertext)
	case maxLen > 0 && len(wrapped)-1 > maxLen:
		return nil, fmt.Errorf("wrapped key is too long (%d bytes): %w", len(wrapped), kms.ErrInvalidCiphertext)
	}
	return wrapped[1:], nil
}
