package gcpkms

import (
	"github.com/piiguard/piiguard/kms/internal/envelope"
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
	// MaxPlaintext is the largest secret Wrap accepts: Cloud KMS encrypts at
	// most 64 KiB (SOFTWARE keys; HSM keys accept 8 KiB of plaintext and
	// associated data together), one byte of which is the inner version.
	MaxPlaintext = 64*1024 - 1
	// maxAssociatedData is the most associated data Cloud KMS accepts.
	maxAssociatedData = 64 * 1024
	// maxBlob bounds the ciphertext sent to Decrypt.
	maxBlob = 64*1024 + 1024
)

// sealInner, openInner, sealOuter and openOuter are the shared envelope
// of the cloud backends (kms/internal/envelope).
func sealInner(secret []byte) []byte { return envelope.SealInner(secret) }

func openInner(pt []byte) ([]byte, error) { return envelope.OpenInner(pt) }

func sealOuter(blob []byte) []byte { return envelope.SealOuter(blob) }

func openOuter(wrapped []byte) ([]byte, error) { return envelope.OpenOuter(wrapped, maxBlob) }
