package multi_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// fixedKeyDriver is AES-256-GCM under a key the test knows, so that golden
// containers can be unwrapped by a later build. Not for anything else.
type fixedKeyDriver struct {
	gcm    cipher.AEAD
	closed bool
}

func newFixedKeyDriver(key []byte) *fixedKeyDriver {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return &fixedKeyDriver{gcm: g}
}

func (d *fixedKeyDriver) Wrap(ctx context.Context, pt, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return d.gcm.Seal(nonce, nonce, pt, ad), nil
}

func (d *fixedKeyDriver) Unwrap(ctx context.Context, ct, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ct) < 12 {
		return nil, fmt.Errorf("fixed: short: %w", kms.ErrInvalidCiphertext)
	}
	pt, err := d.gcm.Open(nil, ct[:12], ct[12:], ad)
	if err != nil {
		return nil, fmt.Errorf("fixed: %w", kms.ErrInvalidCiphertext)
	}
	return pt, nil
}

func (d *fixedKeyDriver) Close() error { return nil }

// hangingDriver never answers: each call waits for its context.
type hangingDriver struct{}

func (hangingDriver) Wrap(ctx context.Context, _, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingDriver) Unwrap(ctx context.Context, _, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingDriver) Close() error { return nil }
