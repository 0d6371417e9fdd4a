package gcpkms

import (
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// Wire format, version 1.
//
// A wrapped secret is
//
//	0x01 || ciphertext
//
// where ciphertext is what Cloud KMS Encrypt returned (opaque; it names the
// CryptoKeyVersion that made it). What Cloud KMS encrypts is not the secret
// itself but
//
//	0x01 || secret
//
// so that the service is never sent an empty plaintext (a required field)
// and a later format can be told apart after decryption. Both version
// bytes are checked on Unwrap. The format is pinned by TestWireFormat.
const (
	formatV1 = 0x01 // the outer version byte, before the Cloud KMS ciphertext
	innerV1  = 0x01 // the inner version byte, before the secret

	// MaxPlaintext is the largest secret Wrap accepts: Cloud KMS encrypts at
	// most 64 KiB (SOFTWARE keys; HSM keys accept 8 KiB of plaintext and
	// associated data together), one byte of which is the inner version.
	MaxPlaintext = 64*1024 - 1
	// maxAssociatedData is the most associated data Cloud KMS accepts.
	maxAssociatedData = 64 * 1024
	// maxBlob bounds the ciphertext sent to Decrypt.
	maxBlob = 64*1024 + 1024
)

// sealInner returns the plaintext sent to Cloud KMS for secret. The caller
// clears it after use.
func sealInner(secret []byte) []byte {
	in := make([]byte, 1+len(secret))
	in[0] = innerV1
	copy(in[1:], secret)
	return in
}

// openInner checks and strips the inner version byte of what Cloud KMS
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

// sealOuter returns the wrapped form of a Cloud KMS ciphertext.
func sealOuter(blob []byte) []byte {
	out := make([]byte, 1+len(blob))
	out[0] = formatV1
	copy(out[1:], blob)
	return out
}

// openOuter returns the Cloud KMS ciphertext inside a wrapped secret. Anything
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
