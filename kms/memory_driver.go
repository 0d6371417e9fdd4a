package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// InsecureMemoryDriver is a random root key that lives only in memory, for
// tests and demos. Nothing is persisted: once the driver is closed or the
// process exits, everything wrapped under it — and so every keyset and
// every value protected by them — can never be decrypted again. It is not
// for production, as its name says.
//
// It uses the same wrap format as LocalDriver and passes the same
// conformance suite. It is safe for concurrent use.
type InsecureMemoryDriver struct {
	c *rootCipher
}

var _ Driver = (*InsecureMemoryDriver)(nil)

// NewInsecureMemoryDriver returns a driver over a new random root key that
// is never written anywhere.
func NewInsecureMemoryDriver() *InsecureMemoryDriver {
	var keyID [keyIDSize]byte
	key := make([]byte, rootKeySize)
	_, _ = rand.Read(keyID[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(key)
	what := "insecure memory root key " + hex.EncodeToString(keyID[:])
	return &InsecureMemoryDriver{c: newRootCipher(keyID, key, what)}
}

// KeyID returns the root key's random ID: 32 hex digits.
func (d *InsecureMemoryDriver) KeyID() string { return hex.EncodeToString(d.c.keyID[:]) }

// Wrap encrypts plaintext under the root key, bound to associatedData.
func (d *InsecureMemoryDriver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	return d.c.wrap(ctx, plaintext, associatedData)
}

// Unwrap decrypts a ciphertext made by Wrap with the same driver and
// associated data; anything else fails with ErrInvalidCiphertext.
func (d *InsecureMemoryDriver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	return d.c.unwrap(ctx, ciphertext, associatedData)
}

// Close zeroes the root key, which is then gone for good. It is idempotent
// and always returns nil; Wrap and Unwrap fail with ErrClosed afterwards.
func (d *InsecureMemoryDriver) Close() error {
	d.c.close()
	return nil
}

// String describes the driver without key material.
func (d *InsecureMemoryDriver) String() string {
	return "kms.InsecureMemoryDriver(key_id=" + d.KeyID() + ")"
}

// GoString is String: the key never appears in %#v.
func (d *InsecureMemoryDriver) GoString() string { return d.String() }

// Format writes String for every verb.
func (d *InsecureMemoryDriver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *InsecureMemoryDriver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *InsecureMemoryDriver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
