package vaulttransit

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/envelope"
)

// Wire format, version 1.
//
// A wrapped secret is
//
//	0x01 || "vault:v<N>:<base64>"
//
// the byte 0x01 followed by the ciphertext string Transit returned,
// unchanged, so the key version N that made it stays readable (KeyVersion)
// and Transit's rewrap endpoint can be applied to it. What Transit encrypts
// is not the secret itself but
//
//	0x01 || secret
//
// so that Transit is never sent an empty plaintext and a later format can
// be told apart after decryption. Unwrap parses the ciphertext strictly
// (decimal version without leading zeros, canonical standard base64) before
// sending it: Vault decodes leniently (it reads "v0" as version 1 and
// ignores the unused bits of the last base64 character), so without the
// check some altered ciphertexts would still open. The format is pinned by
// TestWireFormat.
const (
	// MaxPlaintext is the largest secret Wrap accepts. Transit itself
	// accepts far more (Vault limits requests to 32 MiB); data keys are
	// small, and a bound keeps a mistake from sending megabytes.
	MaxPlaintext = 64 * 1024
	// maxAssociatedData bounds the associated data for the same reason.
	maxAssociatedData = 64 * 1024
	// maxCiphertext bounds a Transit ciphertext string: the prefix, a
	// nonce, the payload and a tag, in base64.
	maxCiphertext = 32 + (MaxPlaintext+1+64)*4/3 + 4

	ciphertextPrefix = "vault:v"
)

// sealInner, openInner and sealOuter are the shared envelope of the cloud
// backends (kms/internal/envelope).
func sealInner(secret []byte) []byte { return envelope.SealInner(secret) }

func openInner(pt []byte) ([]byte, error) { return envelope.OpenInner(pt) }

func sealOuter(ciphertext string) []byte { return envelope.SealOuter(ciphertext) }

// openOuter returns the Transit ciphertext inside a wrapped secret and its
// key version. Anything that is not a well-formed version 1 wrapped secret
// fails with ErrInvalidCiphertext.
func openOuter(wrapped []byte) (string, int, error) {
	blob, err := envelope.OpenOuter(wrapped, 0)
	if err != nil {
		return "", 0, err
	}
	ct := string(blob)
	v, err := parseCiphertext(ct)
	if err != nil {
		return "", 0, err
	}
	return ct, v, nil
}

// parseCiphertext checks that ct is "vault:v<N>:<base64>" with N a decimal
// without leading zeros, at least 1, and the base64 canonical, non-empty
// standard encoding; it returns N.
func parseCiphertext(ct string) (int, error) {
	bad := func(reason string) (int, error) {
		return 0, fmt.Errorf("not a Transit ciphertext (%s): %w", reason, kms.ErrInvalidCiphertext)
	}
	if len(ct) > maxCiphertext {
		return bad("too long")
	}
	rest, ok := strings.CutPrefix(ct, ciphertextPrefix)
	if !ok {
		return bad("no vault:v prefix")
	}
	num, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return bad("no version separator")
	}
	if num == "" || len(num) > 9 || num[0] == '0' {
		return bad("malformed key version")
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return bad("malformed key version")
		}
	}
	version, _ := strconv.Atoi(num)
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) == 0 || base64.StdEncoding.EncodeToString(raw) != b64 {
		return bad("malformed base64")
	}
	return version, nil
}

// KeyVersion returns the Transit key version that made a key wrapped by a
// Driver: N in its "vault:v<N>:" prefix. After a rotation, wrapped keys of
// versions below the one about to become min_decryption_version must be
// rewrapped first (kms.Admin.Rewrap, or Transit's rewrap endpoint). A
// malformed wrapped key fails with kms.ErrInvalidCiphertext.
func KeyVersion(wrapped []byte) (int, error) {
	_, v, err := openOuter(wrapped)
	if err != nil {
		return 0, fmt.Errorf("vaulttransit: %w", err)
	}
	return v, nil
}
