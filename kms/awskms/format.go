package awskms

import (
	"github.com/piiguard/piiguard/kms/internal/envelope"
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
	// MaxPlaintext is the largest secret Wrap accepts: AWS KMS encrypts at
	// most 4096 bytes, one of which is the inner version byte.
	MaxPlaintext = 4096 - 1
	// maxBlob is the largest CiphertextBlob AWS KMS Decrypt accepts.
	maxBlob = 6144
)

// sealInner, openInner, sealOuter and openOuter are the shared envelope
// of the cloud backends (kms/internal/envelope).
func sealInner(secret []byte) []byte { return envelope.SealInner(secret) }

func openInner(pt []byte) ([]byte, error) { return envelope.OpenInner(pt) }

func sealOuter(blob []byte) []byte { return envelope.SealOuter(blob) }

func openOuter(wrapped []byte) ([]byte, error) { return envelope.OpenOuter(wrapped, maxBlob) }
