package insecuremem

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/rootcipher"
)

// Driver is a random root key that lives only in memory, for tests and
// demos: a kms.Driver. Nothing is persisted: once the driver is closed or
// the process exits, everything wrapped under it — and so every keyset and
// every value protected by them — can never be decrypted again. It is not
// for production, as its package's name says.
//
// It uses the same wrap format as kms/localkey's Driver and passes the same
// conformance suite. It is safe for concurrent use.
type Driver struct {
	c *rootcipher.Cipher
}

var _ kms.Driver = (*Driver)(nil)

// NewDriver returns a driver over a new random root key that is never
// written anywhere.
func NewDriver() *Driver {
	var keyID [rootcipher.KeyIDSize]byte
	key := make([]byte, rootcipher.KeySize)
	_, _ = rand.Read(keyID[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(key)
	what := "insecuremem: root key " + hex.EncodeToString(keyID[:])
	return &Driver{c: rootcipher.New(keyID, key, what)}
}

// KeyID returns the root key's random ID: 32 hex digits.
func (d *Driver) KeyID() string {
	id := d.c.KeyID()
	return hex.EncodeToString(id[:])
}

// Wrap encrypts plaintext under the root key, bound to associatedData.
func (d *Driver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	return d.c.Wrap(ctx, plaintext, associatedData)
}

// Unwrap decrypts a ciphertext made by Wrap with the same driver and
// associated data; anything else fails with kms.ErrInvalidCiphertext.
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	return d.c.Unwrap(ctx, ciphertext, associatedData)
}

// Close zeroes the root key, which is then gone for good. It is idempotent
// and always returns nil; Wrap and Unwrap fail with kms.ErrClosed
// afterwards.
func (d *Driver) Close() error {
	d.c.Close()
	return nil
}

// String describes the driver without key material.
func (d *Driver) String() string {
	return "insecuremem.Driver(key_id=" + d.KeyID() + ")"
}

// GoString is String: the key never appears in %#v.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb.
func (d *Driver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *Driver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Scheme is the URI scheme of a Driver: insecure-memory://anything. Every
// open makes a new random key, even for the same URI, and nothing is
// persisted. No URLMux knows it unless it is registered there:
//
//	mux.Register(insecuremem.Scheme, insecuremem.Opener{})
const Scheme = "insecure-memory"

// Opener opens Scheme URIs, each as a NewDriver; the rest of the URI is
// ignored.
type Opener struct{}

// OpenRootKey returns NewDriver(), or the context's error if ctx is done.
func (Opener) OpenRootKey(ctx context.Context, _ *url.URL) (kms.Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return NewDriver(), nil
}
