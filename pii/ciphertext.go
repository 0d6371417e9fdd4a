package pii

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"unsafe"
)

// The protected-value format, version 1 (documented in doc.go):
//
//	ciphertext = "pg1." base64url-unpadded(tink)
//	tink       = 0x01 key-id(4, big-endian) iv(12) aes-gcm-ciphertext tag(16)
const (
	// MaxValueSize is the largest plaintext, in bytes, that one field may
	// hold when it is sealed. Larger values fail with ErrTooLarge: field
	// encryption is for personal data, not documents.
	MaxValueSize = 64 << 10

	ctPrefix      = "pg1."
	tinkPrefixLen = 5    // output prefix of a Tink key: 0x01 + key ID
	tinkStartByte = 0x01 // the TINK output prefix type
	gcmOverhead   = 12 + 16
	minRawLen     = tinkPrefixLen + gcmOverhead
	maxRawLen     = minRawLen + MaxValueSize
)

var (
	b64 = base64.RawURLEncoding.Strict()

	minEncodedLen = len(ctPrefix) + b64.EncodedLen(minRawLen)
	maxEncodedLen = len(ctPrefix) + b64.EncodedLen(maxRawLen)
)

// marked reports whether s starts with a protected-value marker, "pg"
// followed by a version digit and a dot. A marked value is a claim to be a
// ciphertext: it is parsed as one and never treated as plaintext.
func marked[S string | []byte](s S) bool {
	return len(s) >= 4 && s[0] == 'p' && s[1] == 'g' && s[2] >= '1' && s[2] <= '9' && s[3] == '.'
}

// parseCiphertext decodes a marked value into the Tink ciphertext and the
// key ID it names. It accepts exactly the strings encodeCiphertext makes
// (canonical base64, no line breaks), and fails with ErrUnsupportedFormat
// for another version and ErrInvalidCiphertext for anything malformed. It
// never includes its input in an error.
func parseCiphertext(s string) (raw []byte, keyID uint32, err error) {
	return appendCiphertext(nil, s)
}

// appendCiphertext is parseCiphertext decoding into dst's spare capacity
// (or a new slice when it has too little): a call decodes every field into
// one buffer, since Tink's Decrypt does not keep its input.
func appendCiphertext(dst []byte, s string) (raw []byte, keyID uint32, err error) {
	if !marked(s) {
		return nil, 0, ErrInvalidCiphertext
	}
	if s[2] != '1' {
		return nil, 0, ErrUnsupportedFormat
	}
	if len(s) < minEncodedLen || len(s) > maxEncodedLen {
		return nil, 0, ErrInvalidCiphertext
	}
	body := s[len(ctPrefix):]
	raw = slices.Grow(dst[:0], b64.DecodedLen(len(body)))[:b64.DecodedLen(len(body))]
	n, err := b64.Decode(raw, stringBytes(body))
	// encoding/base64 skips line breaks, which a ciphertext has none of:
	// then fewer characters were decoded than the body has.
	if err != nil || b64.EncodedLen(n) != len(body) {
		return nil, 0, ErrInvalidCiphertext
	}
	raw = raw[:n]
	if len(raw) < minRawLen || raw[0] != tinkStartByte {
		return nil, 0, ErrInvalidCiphertext
	}
	return raw, binary.BigEndian.Uint32(raw[1:5]), nil
}

// encodeCiphertext encodes a Tink ciphertext as a protected value, in one
// allocation.
func encodeCiphertext(raw []byte) string {
	out := make([]byte, len(ctPrefix)+b64.EncodedLen(len(raw)))
	copy(out, ctPrefix)
	b64.Encode(out[len(ctPrefix):], raw)
	return bytesToString(out)
}

// bytesToString returns b as a string without copying; b must never be
// written again. It is how a ciphertext's text costs one allocation (as
// strings.Builder makes its string), and with stringBytes how Seal, Open
// and the index hand values to Tink and base64 and back without copies:
// Seal+Open of the 4-field record makes 13 allocations instead of 25 and
// takes 12% less time for it (BenchmarkTargets/seal-open: 1.20 instead of
// 1.37 times hand-written Tink).
func bytesToString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// stringBytes returns the bytes of s without copying, to be read only.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
