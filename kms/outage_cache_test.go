package kms_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// outageDriver is a driver whose Unwrap can be made to fail as unavailable,
// hang until its context ends, or deny access.
type outageDriver struct {
	kms.Driver
	unwraps atomic.Int64
	mode    atomic.Value  // "", "down", "hang" or "denied"
	release chan struct{} // closed to end every hang
}

func (d *outageDriver) Unwrap(ctx context.Context, ct, ad []byte) ([]byte, error) {
	d.unwraps.Add(1)
	switch m, _ := d.mode.Load().(string); m {
	case "down":
		return nil, fmt.Errorf("test backend down: %w", kms.ErrUnavailable)
	case "hang":
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.release:
			return nil, fmt.Errorf("test backend released: %w", kms.ErrUnavailable)
		}
	case "denied":
		return nil, fmt.Errorf("test backend: %w", kms.ErrPermissionDenied)
	case "slow-denied": // past the cache's patience, then a definitive answer
		time.Sleep(1500 * time.Millisecond)
		return nil, fmt.Errorf("test backend: %w", kms.ErrPermissionDenied)
	}
	return d.Driver.Unwrap(ctx, ct, ad)
}

// staleRetry is the cache's retry interval for degraded entries (5 s),
// plus a margin.
const staleRetry = 5*time.Second + time.Millisecond

func newOutageKeyring(t *testing.T, opts kms.KeyringOptions) (*kms.Keyring, *outageDriver) {
	t.Helper()
	d := &outageDriver{Driver: insecuremem.NewDriver(), release: make(chan struct{})}
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "outage", BaseDelay: time.Millisecond})
	t.Cleanup(func() { root.Close() })
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })
	t.Cleanup(func() { close(d.release) }) // runs first: hangs end before the Closes
	_, err = kms.NewAdmin(kr).Create(ctx, "a", kms.PurposeAEAD)
	require.NoError(t, err)
	_, err = kr.AEAD(ctx, "a")
	require.NoError(t, err)
	return kr, d
}

// useA encrypts with keyset "a", failing the test if it cannot.
func useA(t *testing.T, kr *kms.Keyring) {
	t.Helper()
	a, err := kr.AEAD(ctx, "a")
	require.NoError(t, err)
	_, err = a.Encrypt([]byte("x"), nil)
	require.NoError(t, err)
}

// During an outage, an expired keyset costs one failed reload per retry
// interval, not one per call; the reloads after the first run in the
// background while the old keyset serves; and the first successful reload
// ends the outage mode.
func TestOutageCostsOneReloadPerRetryInterval(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	kr, d := newOutageKeyring(t, kms.KeyringOptions{Clock: clk.Now, CacheMaxAge: time.Minute, StaleIfUnavailable: 10 * time.Minute})

	d.mode.Store("down")
	clk.Add(2 * time.Minute)
	before := d.unwraps.Load()
	useA(t, kr) // the reload fails; the old keyset serves
	failed := d.unwraps.Load()
	assert.Equal(t, int64(3), failed-before, "one reload, with the root key's 3 attempts")
	for range 100 {
		useA(t, kr)
	}
	assert.Equal(t, failed, d.unwraps.Load(), "no reload per call within the retry interval")

	clk.Add(staleRetry)
	useA(t, kr) // served at once; a reload starts in the background
	require.Eventually(t, func() bool { return d.unwraps.Load() == failed+3 }, 5*time.Second, time.Millisecond,
		"one background reload after the retry interval")
	for range 100 {
		useA(t, kr)
	}
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, failed+3, d.unwraps.Load(), "the failed background reload starts another interval")

	// The backend is back: the next reload succeeds, and the keyset is
	// fresh again (it serves a full CacheMaxAge, past the old grace).
	d.mode.Store("")
	clk.Add(staleRetry)
	useA(t, kr)
	require.Eventually(t, func() bool { return d.unwraps.Load() == failed+4 }, 5*time.Second, time.Millisecond)
	d.mode.Store("down")
	clk.Add(30 * time.Second)
	require.Eventually(t, func() bool {
		a, err := kr.AEAD(ctx, "a")
		return err == nil && a != nil
	}, 5*time.Second, time.Millisecond)
	settled := d.unwraps.Load()
	for range 10 {
		useA(t, kr)
	}
	assert.Equal(t, settled, d.unwraps.Load(), "a fresh entry: no reload")

	// Past the grace (counted from the last successful load), the outage
	// shows.
	clk.Add(time.Minute + 10*time.Minute)
	_, err := kr.AEAD(ctx, "a")
	require.Eventually(t, func() bool {
		_, err = kr.AEAD(ctx, "a")
		return err != nil
	}, 5*time.Second, time.Millisecond)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
}

// Once an outage is known, a backend that hangs holds no caller up: the
// background reloads hang (here up to a LoadTimeout of 20 s), the callers
// are served the old keyset at once.
func TestOutageOfAHangingBackendDoesNotHoldCallers(t *testing.T) {
	kr, d := newOutageKeyring(t, kms.KeyringOptions{CacheMaxAge: 50 * time.Millisecond, LoadTimeout: 20 * time.Second})
	d.mode.Store("down")
	time.Sleep(60 * time.Millisecond) // the entry expires
	useA(t, kr)                       // the reload fails; the old keyset serves
	d.mode.Store("hang")

	// The degraded entry serves for min(5 s, CacheMaxAge) = 50 ms at a
	// time; across several such intervals, no call may wait for a reload
	// (one that did would wait for the 20 s LoadTimeout).
	deadline := time.Now().Add(400 * time.Millisecond)
	var slowest time.Duration
	calls := 0
	for time.Now().Before(deadline) {
		t0 := time.Now()
		useA(t, kr)
		slowest = max(slowest, time.Since(t0))
		calls++
	}
	assert.Less(t, slowest, 5*time.Second, "no call waited for a hanging reload (%d calls)", calls)
	assert.Greater(t, d.unwraps.Load(), int64(3), "a background reload was tried")
}

// Even the first reload that hangs holds its callers up only briefly (the
// cache's patience, 1 s), not for the 20 s LoadTimeout: they get the old
// keyset while the reload goes on.
func TestOutageStartingWithAHangDoesNotWaitForTheLoadTimeout(t *testing.T) {
	kr, d := newOutageKeyring(t, kms.KeyringOptions{CacheMaxAge: 50 * time.Millisecond, LoadTimeout: 20 * time.Second})
	d.mode.Store("hang")
	time.Sleep(60 * time.Millisecond) // the entry expires
	start := time.Now()
	useA(t, kr)
	assert.Less(t, time.Since(start), 10*time.Second, "the first caller got the old keyset without waiting for the LoadTimeout")
	// The others do not wait at all while that reload hangs.
	t0 := time.Now()
	for range 20 {
		useA(t, kr)
	}
	assert.Less(t, time.Since(t0), 10*time.Second, "20 calls while the reload hangs")
}

// A definitive answer — here access denied — ends the stale service at
// once, even in outage mode.
func TestOutageEndsOnADefinitiveError(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	kr, d := newOutageKeyring(t, kms.KeyringOptions{Clock: clk.Now, CacheMaxAge: time.Minute, StaleIfUnavailable: 10 * time.Minute})
	d.mode.Store("down")
	clk.Add(2 * time.Minute)
	useA(t, kr)

	d.mode.Store("denied")
	clk.Add(staleRetry)
	useA(t, kr) // served from the degraded entry while the reload runs
	var err error
	require.Eventually(t, func() bool {
		_, err = kr.AEAD(ctx, "a")
		return err != nil
	}, 5*time.Second, time.Millisecond, "the denial reaches the callers")
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	_, err = kr.AEAD(ctx, "a")
	assert.ErrorIs(t, err, kms.ErrPermissionDenied, "and stays")
}

// A reload that outlasts the callers' patience and then ends in a denial
// ends the stale service too: the copy of the old keyset that served in
// the meantime goes with it.
func TestOutageSlowDenialEndsTheStaleService(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	kr, d := newOutageKeyring(t, kms.KeyringOptions{Clock: clk.Now, CacheMaxAge: time.Minute, StaleIfUnavailable: 10 * time.Minute})
	d.mode.Store("slow-denied")
	clk.Add(2 * time.Minute)
	useA(t, kr) // served the old keyset after the patience; the reload goes on
	var err error
	require.Eventually(t, func() bool {
		_, err = kr.AEAD(ctx, "a")
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "the denial reaches the callers")
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
}
