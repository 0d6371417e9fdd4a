package e2e_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

// clock is a settable time source for the keyring's cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// flakyStore is a Store whose writes can be made to fail, as when the
// key store's database is down.
type flakyStore struct {
	kms.Store
	failPuts atomic.Bool
}

func (s *flakyStore) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if s.failPuts.Load() {
		return fmt.Errorf("e2e: key store down: %w", kms.ErrUnavailable)
	}
	return s.Store.PutKeyset(ctx, rec)
}

func (s *flakyStore) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
	if s.failPuts.Load() {
		return fmt.Errorf("e2e: key store down: %w", kms.ErrUnavailable)
	}
	return s.Store.PutSubjectKey(ctx, rec)
}

const testPassphrase = "correct horse battery staple, twice over"

// localRoot creates a root key file in dir (cheap KDF: a test).
func localRoot(t *testing.T, dir, name string) (*localkey.Driver, string) {
	t.Helper()
	path := filepath.Join(dir, name+".key")
	d, err := localkey.Create(path, []byte(testPassphrase), localkey.Options{InsecureFastKDFForTests: true})
	require.NoError(t, err)
	return d, path
}

// fastRetries is RootKeyOptions with the default attempt count and short
// waits, so that outage tests are quick but still retry.
func fastRetries(name string) kms.RootKeyOptions {
	return kms.RootKeyOptions{Name: name, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

// keyID returns the Tink key ID a ciphertext names (Tink's prefix: 0x01,
// then the ID big-endian).
func keyID(t *testing.T, ct []byte) uint32 {
	t.Helper()
	require.GreaterOrEqual(t, len(ct), 5)
	require.Equal(t, byte(1), ct[0], "Tink prefix")
	return binary.BigEndian.Uint32(ct[1:5])
}
