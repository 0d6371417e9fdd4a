package kms_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// The rotation contract of PRF sets, on which internal/keyedprf (pii's
// blind indexes, tokenize's HMAC tokens) relies: the same *prf.Set while
// the keyset is unchanged, a new one after every change.
func TestPRFHandsOutANewSetForEveryChange(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	set, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	again, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	assert.Same(t, set, again, "an unchanged keyset gives the same set")

	changes := []struct {
		name   string
		change func() error
	}{
		{"rotate", func() error { _, err := f.admin.Rotate(ctx, "search"); return err }},
		{"add-version", func() error { _, err := f.admin.AddVersion(ctx, "search"); return err }},
		{"refresh", func() error { return f.kr.Refresh(ctx, "search") }},
	}
	for _, c := range changes {
		before, err := f.kr.PRF(ctx, "search")
		require.NoError(t, err)
		require.NoError(t, c.change(), c.name)
		after, err := f.kr.PRF(ctx, "search")
		require.NoError(t, err)
		assert.NotSame(t, before, after, "%s gives a new set", c.name)
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
	before, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	require.Contains(t, before.PRFs, old)
	require.NoError(t, f.admin.Disable(ctx, "search", old))
	after, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	assert.NotSame(t, before, after)
	assert.NotContains(t, after.PRFs, old, "the disabled version left the new set")
	assert.Contains(t, before.PRFs, old, "a set handed out is never modified")

	require.NoError(t, f.kr.Close())
	_, err = f.kr.PRF(ctx, "search")
	assert.ErrorIs(t, err, kms.ErrClosed)
}

func TestPRFGivesANewSetOnceTheCacheEntryExpires(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{CacheMaxAge: 30 * time.Millisecond})
	_, err := f.admin.Create(ctx, "search", kms.PurposePRF)
	require.NoError(t, err)
	set, err := f.kr.PRF(ctx, "search")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		next, err := f.kr.PRF(ctx, "search")
		return err == nil && next != set
	}, 5*time.Second, 5*time.Millisecond, "a reload after the maximum age makes a new set")
}
