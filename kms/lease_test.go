package kms_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// leased returns a PRF set of the keyset with a valid lease: the first call
// after a load returns the zero lease, the next one a valid lease.
func leased(t *testing.T, kr *kms.Keyring, name string) (setPrimary uint32, l kms.Lease) {
	t.Helper()
	_, _, err := kr.LeasePRF(ctx, name)
	require.NoError(t, err)
	set, l, err := kr.LeasePRF(ctx, name)
	require.NoError(t, err)
	require.True(t, l.Valid(), "a cached keyset gives a valid lease")
	return set.PrimaryID, l
}

func TestLeasePRFFollowsTheCache(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)

	set, l, err := f.kr.LeasePRF(ctx, "search")
	require.NoError(t, err)
	assert.False(t, l.Valid(), "the call that loaded the keyset gives no lease")
	set2, l2, err := f.kr.LeasePRF(ctx, "search")
	require.NoError(t, err)
	assert.Same(t, set, set2, "the cached set")
	assert.True(t, l2.Valid())
	plain, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	assert.Same(t, set, plain, "LeasePRF and PRF hand out the same set")
	assert.False(t, kms.Lease{}.Valid(), "the zero lease")

	// Every change made through the keyring ends the lease, and the next
	// set is the changed one.
	changes := []struct {
		name   string
		change func() error
	}{
		{"rotate", func() error { _, err := f.admin.Rotate(ctx, "search"); return err }},
		{"add-version", func() error { _, err := f.admin.AddVersion(ctx, "search"); return err }},
		{"refresh", func() error { return f.kr.Refresh(ctx, "search") }},
	}
	for _, c := range changes {
		before, l := leased(t, f.kr, "search")
		require.NoError(t, c.change(), c.name)
		assert.False(t, l.Valid(), "%s ends the lease", c.name)
		after, l := leased(t, f.kr, "search")
		assert.True(t, l.Valid(), c.name)
		if c.name == "rotate" {
			assert.NotEqual(t, before, after, "rotate changes the primary")
		}
	}

	vs, err := f.admin.Versions(ctx, "search")
	require.NoError(t, err)
	var old uint32
	for _, v := range vs {
		if !v.Primary {
			old = v.ID
			break
		}
	}
	require.NotZero(t, old)
	_, l = leased(t, f.kr, "search")
	require.NoError(t, f.admin.Disable(ctx, "search", old))
	assert.False(t, l.Valid(), "disable ends the lease")
	_, _ = leased(t, f.kr, "search")
	set, l, err = f.kr.LeasePRF(ctx, "search")
	require.NoError(t, err)
	assert.NotContains(t, set.PRFs, old, "the disabled version left the set")
	assert.True(t, l.Valid())

	require.NoError(t, f.kr.Close())
	assert.False(t, l.Valid(), "close ends the lease")
	_, l, err = f.kr.LeasePRF(ctx, "search")
	require.ErrorIs(t, err, kms.ErrClosed)
	assert.False(t, l.Valid())
}

func TestLeasePRFExpiresWithTheCacheEntry(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{CacheMaxAge: 30 * time.Millisecond})
	_, err := f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	_, l := leased(t, f.kr, "search")
	require.Eventually(t, func() bool { return !l.Valid() }, 5*time.Second, 5*time.Millisecond,
		"a lease ends when its cache entry expires")
}

func TestLeasePRFEndsOnEviction(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{CacheMaxEntries: 2})
	for i := range 5 {
		_, err := f.admin.Create(ctx, fmt.Sprintf("s%d", i), kms.PurposePRF)
		require.NoError(t, err)
	}
	_, l := leased(t, f.kr, "s0")
	// s0 was used, so it gets a second chance before it is evicted.
	for i := 1; i < 5; i++ {
		_, err := f.kr.PRF(ctx, fmt.Sprintf("s%d", i))
		require.NoError(t, err)
	}
	assert.False(t, l.Valid(), "an evicted entry's lease is over")
}

func TestLeasePRFWithInjectedClockIsNeverValid(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, kms.KeyringOptions{Clock: func() time.Time { return now }})
	_, err := f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	for range 3 {
		set, l, err := f.kr.LeasePRF(ctx, "search")
		require.NoError(t, err)
		require.NotNil(t, set)
		assert.False(t, l.Valid(), "expiry by an injected clock cannot be signalled")
	}
}

func TestLeasePRFRefusesOtherPurposes(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "fields", kms.PurposeAEAD)
	require.NoError(t, err)
	for range 2 { // the second call finds the keyset cached
		_, l, err := f.kr.LeasePRF(ctx, "fields")
		require.ErrorIs(t, err, kms.ErrInvalidArgument)
		assert.False(t, l.Valid())
	}
	_, _, err = f.kr.LeasePRF(ctx, "missing")
	require.ErrorIs(t, err, kms.ErrNotFound)
}
