// Package rootcipher is a root key held in memory, and the wrap format it
// writes: what kms/localkey (a key file) and kms/insecuremem (a random key
// that is never stored) have in common.
//
// Wrap format, version 1 (pinned by kms/localkey/testdata/rootkey-v1-vectors.json):
//
//	0x01 || key_id[0:4] || nonce (12 bytes) || AES-256-GCM ciphertext and tag
//
// with the first 5 bytes prepended to the caller's associated data, so a
// ciphertext made under another root key, or with another format byte, does
// not open. Nonces are random; one root key wraps far fewer than 2^32
// values in practice (one per keyset write).
package rootcipher

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"sync"

	"github.com/piiguard/piiguard/kms"
)

const (
	// KeySize is the size of a root key.
	KeySize = 32
	// KeyIDSize is the size of a root key's public ID.
	KeyIDSize = 16

	formatV1   = 0x01
	headerSize = 1 + 4
	nonceSize  = 12
	tagSize    = 16
	overhead   = headerSize + nonceSize + tagSize
)

// Cipher is a root key held in memory. It is safe for concurrent use.
type Cipher struct {
	keyID [KeyIDSize]byte
	what  string // starts every error: the package and the key, never its bytes

	mu  sync.RWMutex
	key []byte // nil once closed
}

// New returns a Cipher over key (KeySize bytes, which it owns and zeroes
// on Close). what names the key in errors, and starts them ("localkey:
// local root key 0a1b… (file \"/x\")"); it must hold no secret.
func New(keyID [KeyIDSize]byte, key []byte, what string) *Cipher {
	return &Cipher{keyID: keyID, key: key, what: what}
}

// KeyID returns the key's public ID.
func (c *Cipher) KeyID() [KeyIDSize]byte { return c.keyID }

func (c *Cipher) err(op string, err error) error {
	return fmt.Errorf("%s: %s: %w", c.what, op, err)
}

func (c *Cipher) header() []byte {
	return []byte{formatV1, c.keyID[0], c.keyID[1], c.keyID[2], c.keyID[3]}
}

// aead returns AES-256-GCM with random nonces under the key; c.mu must be
// held. A new cipher per call keeps the key schedule out of long-lived
// memory: only c.key outlives the call, and Close zeroes it.
func (c *Cipher) aead() cipher.AEAD {
	block, err := aes.NewCipher(c.key)
	if err != nil {
		panic("rootcipher: " + err.Error()) // cannot happen: 32-byte key
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("rootcipher: " + err.Error()) // cannot happen: AES block
	}
	return aead
}

// Wrap seals plaintext under the key, bound to associatedData, in the wrap
// format. It fails with kms.ErrClosed after Close, and with the context's
// error if ctx is done.
func (c *Cipher) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.err("wrap", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.key == nil {
		return nil, c.err("wrap", kms.ErrClosed)
	}
	hdr := c.header()
	out := make([]byte, 0, overhead+len(plaintext))
	out = append(out, hdr...)
	return c.aead().Seal(out, nil, plaintext, append(hdr, associatedData...)), nil
}

// Unwrap opens what Wrap sealed with the same key and associated data;
// anything else fails with kms.ErrInvalidCiphertext.
func (c *Cipher) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.err("unwrap", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.key == nil {
		return nil, c.err("unwrap", kms.ErrClosed)
	}
	switch {
	case len(ciphertext) < overhead:
		return nil, c.err("unwrap", fmt.Errorf("too short: %w", kms.ErrInvalidCiphertext))
	case ciphertext[0] != formatV1:
		return nil, c.err("unwrap", fmt.Errorf("unknown format byte: %w", kms.ErrInvalidCiphertext))
	case subtle.ConstantTimeCompare(ciphertext[1:headerSize], c.keyID[:4]) != 1:
		return nil, c.err("unwrap", fmt.Errorf("made under another root key: %w", kms.ErrInvalidCiphertext))
	}
	hdr := ciphertext[:headerSize:headerSize]
	pt, err := c.aead().Open(nil, nil, ciphertext[headerSize:], append(hdr, associatedData...))
	if err != nil {
		return nil, c.err("unwrap", fmt.Errorf("authentication failed: %w", kms.ErrInvalidCiphertext))
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// Close zeroes the key. It is idempotent.
func (c *Cipher) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.key)
	c.key = nil
}
