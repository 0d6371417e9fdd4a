package kms

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/piiguard/piiguard"
)

// Driver is a root key (key-encryption key) held by a backend: a key file, a
// cloud KMS, Vault Transit or an HSM. The key never leaves the backend; the
// driver only wraps and unwraps small secrets (the 32-byte data keys that
// protect keysets) under it.
//
// The contract every backend must meet, checked by kms/kmstest:
//
//   - Wrap returns a ciphertext that Unwrap with the same associated data
//     turns back into plaintext; any other associated data, any change to
//     the ciphertext, or another root key makes Unwrap fail with an error
//     wrapping ErrInvalidCiphertext.
//   - Errors wrap one of the sentinel errors of this package (ErrUnavailable
//     for transient failures, which the portable RootKey retries;
//     ErrPermissionDenied, ErrNotFound, ErrDisabled, …) or a context error,
//     and never contain plaintext, key bytes or credentials.
//   - A cancelled or expired context makes the call return promptly with an
//     error wrapping the context's error.
//   - All methods are safe for concurrent use. Close is idempotent; Wrap and
//     Unwrap after Close fail with ErrClosed.
//
// Applications do not call a Driver directly: they wrap it in a RootKey.
type Driver interface {
	Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error)
	Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error)
	Close() error
}

// RootKeyOptions configures a RootKey. The zero value is usable.
type RootKeyOptions struct {
	// Name identifies the root key in errors, audit events and keyset
	// records, for example a URI with its secrets removed. It must not hold
	// a secret. Default: "root".
	Name string
	// MaxAttempts bounds the calls made for one Wrap or Unwrap when the
	// backend answers ErrUnavailable. Default 3; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the wait before the first retry; it doubles on each
	// further retry, with jitter, up to MaxDelay. Defaults 50ms and 1s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// RootKey is the portable type over a Driver. It does the shared work once
// for every backend: it refuses calls after Close, classifies errors (an
// error the driver did not classify becomes ErrBackend), names the root key
// in every error, and retries transient (ErrUnavailable) failures a bounded
// number of times with exponential backoff, honouring the context.
//
// A RootKey is safe for concurrent use.
type RootKey struct {
	drv  Driver
	opts RootKeyOptions

	mu     sync.RWMutex
	closed bool
}

// NewRootKey returns a RootKey over d. It takes ownership of d: closing the
// RootKey closes d.
func NewRootKey(d Driver, opts RootKeyOptions) *RootKey {
	if opts.Name == "" {
		opts.Name = "root"
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 50 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = time.Second
	}
	return &RootKey{drv: d, opts: opts}
}

// Name returns the root key's name, which holds no secret.
func (r *RootKey) Name() string { return r.opts.Name }

// String returns the root key's name; it never reveals key material.
func (r *RootKey) String() string { return "kms.RootKey(" + r.opts.Name + ")" }

// Wrap encrypts a small secret under the root key, bound to associatedData.
func (r *RootKey) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	return r.call(ctx, "wrap", func(ctx context.Context) ([]byte, error) {
		return r.drv.Wrap(ctx, plaintext, associatedData)
	})
}

// Unwrap decrypts what Wrap returned. It fails with an error wrapping
// ErrInvalidCiphertext when the ciphertext or associated data was changed or
// the ciphertext was made under another root key.
func (r *RootKey) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	return r.call(ctx, "unwrap", func(ctx context.Context) ([]byte, error) {
		return r.drv.Unwrap(ctx, ciphertext, associatedData)
	})
}

// Close closes the driver. It is idempotent; calls after Close fail with
// ErrClosed.
func (r *RootKey) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.drv.Close(); err != nil {
		return fmt.Errorf("kms: close root key %q: %w", r.opts.Name, classify(err))
	}
	return nil
}

func (r *RootKey) call(ctx context.Context, op string, f func(context.Context) ([]byte, error)) ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("kms: %s with root key %q: %w", op, r.opts.Name, ErrClosed)
	}
	delay := r.opts.BaseDelay
	var err error
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			if err == nil {
				err = cerr
			}
			break
		}
		var out []byte
		out, err = f(ctx)
		if err == nil {
			return out, nil
		}
		err = classify(err)
		if !errors.Is(err, ErrUnavailable) || attempt >= r.opts.MaxAttempts {
			break
		}
		// Full jitter: wait a random time in [delay/2, delay).
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("kms: %s with root key %q: %w (after %d attempts: %w)", op, r.opts.Name, ctx.Err(), attempt, err)
		case <-t.C:
		}
		delay = min(delay*2, r.opts.MaxDelay)
	}
	return nil, fmt.Errorf("kms: %s with root key %q: %w", op, r.opts.Name, err)
}

// classify makes sure err wraps a sentinel: an error the driver left
// unclassified becomes ErrBackend. Its text is kept, since drivers promise
// it holds no secret.
func classify(err error) error {
	if piiguard.Classified(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBackend, err)
}
