package awskms

import (
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// Wire format, version 1.
//
// A wrapped secret is
//
//	0x01 || CiphertextBlob
//
// where CiphertextBlob is what AWS KMS Encrypt returned (opaque; it names the
// KMS key and its backing key version). What AWS KMS encrypts is not the
// secret itself but
//
//	0x01 || secret
//
// so that the service never sees an empty plaintext (it refuses one: its
// Plaintext member must be 1 to 4096 bytes long), and so that a later format
// can be told apart after decryption. Both version bytes are checked on
// Unwrap. The format is pinned by TestWireFormat.
const (
	formatV1 = 0x01 // the outer version byte, before CiphertextBlob
	innerV1  = 0x01 // the inner version byte, before the secret

	// MaxPlaintext is the largest secret Wrap accepts: AWS KMS encrypts at
	// most 4096 bytes, one of which is the inner version byte.
	MaxPlaintext = 4096 - 1
	// maxBlob is the largest CiphertextBlob AWS KMS Decrypt accepts.
	maxBlob = 6144
)

// sealInner returns the plaintext sent to AWS KMS for secret. The caller
// clears it after use.
func sealInner(secret []byte) []byte {
	in := make([]byte, 1+len(secret))
	in[0] = innerV1
	copy(in[1:], secret)
	return in
}

// openInner checks and strips the inner version byte of what AWS KMS
// decrypted, returning a copy owned by the caller.
func openInner(pt []byte) ([]byte, error) {
	switch {
	case len(pt) == 0:
		return nil, fmt.Errorf("decrypted payload is empty: %w", kms.ErrInvalidCiphertext)
	case pt[0] != innerV1:
		return nil, fmt.Errorf("decrypted payload has format version %d, this build knows %d: %w", pt[0], innerV1, kms.ErrUnsupportedVersion)
	}
	out := make([]byte, len(pt)-1)
	copy(out, pt[1:])
	return out, nil
}

// sealOuter returns the wrapped form of an AWS CiphertextBlob.
func sealOuter(blob []byte) []byte {
	out := make([]byte, 1+len(blob))
	out[0] = formatV1
	copy(out[1:], blob)
	return out
}

// openOuter returns the CiphertextBlob inside a wrapped secret. Anything
// that is not a version 1 wrapped secret fails with ErrInvalidCiphertext:
// a flipped version byte is indistinguishable from tampering.
func openOuter(wrapped []byte) ([]byte, error) {
	switch {
	case len(wrapped) < 2:
		return nil, fmt.Errorf("wrapped key is too short (%d bytes): %w", len(wrapped), kms.ErrInvalidCiphertext)
	case wrapped[0] != formatV1:
		return nil, fmt.Errorf("wrapped key has unknown format byte 0x%02x: %w", wrapped[0], kms.ErrInvalidCiphertext)
	case len(wrapped)-1 > maxBlob:
		return nil, fmt.Errorf("wrapped key is too long (%d bytes): %w", len(wrapped), kms.ErrInvalidCiphertext)
	}
	return wrapped[1:], nil
}
