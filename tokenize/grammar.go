package tokenize

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
)

// The grammar of marked tokens, version 1 (documented in doc.go):
//
//	hmac-token  = "th1_" key-id "_" domain-tag "_" b32(mac)          mac: 16 bytes
//	siv-token   = "ts1_" key-id "_" domain-tag "_" b32(siv-output)   ≥ 17 bytes
//	vault-token = "tv1_" domain-tag "_" b32(random)                  random: 16 bytes
//	key-id      = 8 lowercase hex digits, the Tink key ID (big-endian)
//	domain-tag  = b32(SHA-256("piiguard/tokenize/domain/v1" 0x00 domain))[:4]
//	b32(x)      = RFC 4648 base32 of x, lower case, unpadded, canonical
const (
	prefixLen   = 4 // "th1_"
	keyIDLen    = 8
	tagLen      = 4
	macLen      = 16
	randomLen   = 16
	sivMinLen   = 16 + 1 // SIV tag + at least one byte of ciphertext
	domainLabel = "piiguard/tokenize/domain/v1\x00"

	hmacPrefix  = "th1_"
	sivPrefix   = "ts1_"
	vaultPrefix = "tv1_"

	b32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

	// hmacTokenLen is 44: b32 of the 16-byte MAC is 26 characters.
	hmacTokenLen = prefixLen + keyIDLen + 1 + tagLen + 1 + (macLen*8+4)/5
)

var b32 = base32.NewEncoding(b32Alphabet).WithPadding(base32.NoPadding)

// b32Value maps an ASCII byte to its base32 value plus one, 0 if absent.
var b32Value = func() (t [256]byte) {
	for i := 0; i < len(b32Alphabet); i++ {
		t[b32Alphabet[i]] = byte(i + 1)
	}
	return t
}()

var (
	vaultTokenLen  = prefixLen + tagLen + 1 + b32.EncodedLen(randomLen)
	sivHeaderLen   = prefixLen + keyIDLen + 1 + tagLen + 1
	sivMinTokenLen = sivHeaderLen + b32.EncodedLen(sivMinLen)
	sivMaxTokenLen = sivHeaderLen + b32.EncodedLen(16+MaxValueSize)
	hexDigits      = "0123456789abcdef"
)

// domainTag writes the tag of domain into dst.
func domainTag(dst *[tagLen]byte, domain string) {
	h := sha256.New()
	h.Write([]byte(domainLabel))
	h.Write([]byte(domain))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var enc [8]byte // b32 of the first 5 bytes: 8 characters
	b32.Encode(enc[:], sum[:5])
	copy(dst[:], enc[:tagLen])
}

// appendKeyID appends id as 8 lowercase hex digits.
func appendKeyID(dst []byte, id uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(id>>uint(shift))&0xf])
	}
	return dst
}

// parseKeyID reads 8 lowercase hex digits.
func parseKeyID(s string) (uint32, bool) {
	if len(s) != keyIDLen {
		return 0, false
	}
	var id uint32
	for i := 0; i < keyIDLen; i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		id = id<<4 | uint32(d)
	}
	return id, true
}

// decodeB32 decodes canonical lowercase unpadded base32: every character in
// the alphabet (no line breaks, which encoding/base32 would skip) and the
// unused low bits of the last character zero, so that each byte string has
// exactly one encoding.
func decodeB32(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if b32Value[s[i]] == 0 {
			return nil, false
		}
	}
	n := len(s) * 5 / 8
	if b32.EncodedLen(n) != len(s) {
		return nil, false // a length no byte string encodes to
	}
	if unused := len(s)*5 - n*8; unused > 0 {
		last := b32Value[s[len(s)-1]] - 1
		if last&(1<<unused-1) != 0 {
			return nil, false
		}
	}
	out := make([]byte, n)
	if _, err := b32.Decode(out, []byte(s)); err != nil {
		return nil, false
	}
	return out, true
}

// markedToken is a parsed marked token.
type markedToken struct {
	keyID   uint32
	tag     string
	payload []byte
}

// parseMarked parses a marked token with the given prefix; withKey says
// whether the grammar has a key-id field. It checks the grammar only.
func parseMarked(s, prefix string, withKey bool, minLen, maxLen int) (markedToken, bool) {
	var t markedToken
	if len(s) < minLen || len(s) > maxLen || s[:prefixLen] != prefix {
		return t, false
	}
	rest := s[prefixLen:]
	if withKey {
		id, ok := parseKeyID(rest[:keyIDLen])
		if !ok || rest[keyIDLen] != '_' {
			return t, false
		}
		t.keyID = id
		rest = rest[keyIDLen+1:]
	}
	if len(rest) < tagLen+1 || rest[tagLen] != '_' {
		return t, false
	}
	for i := 0; i < tagLen; i++ {
		if b32Value[rest[i]] == 0 {
			return t, false
		}
	}
	t.tag = rest[:tagLen]
	p, ok := decodeB32(rest[tagLen+1:])
	if !ok {
		return t, false
	}
	t.payload = p
	return t, true
}

// tagMatches reports whether tag is the tag of domain.
func tagMatches(tag, domain string) bool {
	var want [tagLen]byte
	domainTag(&want, domain)
	return tag == string(want[:])
}

// KeyVersion returns the key ID (the Tink key ID of the keyset version)
// written in an HMAC or SIV token, for rotation jobs that look for tokens
// still made by an old version. It reads the grammar only: ok is false for
// any other string, including vaulted and format-preserving tokens, which
// carry no key ID.
func KeyVersion(token string) (keyID uint32, ok bool) {
	if t, ok := parseMarked(token, hmacPrefix, true, hmacTokenLen, hmacTokenLen); ok && len(t.payload) == macLen {
		return t.keyID, true
	}
	if t, ok := parseMarked(token, sivPrefix, true, sivMinTokenLen, sivMaxTokenLen); ok && len(t.payload) >= sivMinLen {
		return t.keyID, true
	}
	return 0, false
}

// tinkPrefix returns the 5-byte prefix Tink writes before a ciphertext of
// key id: 0x01 and the ID, big-endian.
func tinkPrefix(id uint32) [5]byte {
	var p [5]byte
	p[0] = 1
	binary.BigEndian.PutUint32(p[1:], id)
	return p
}
