package kms

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheEvictsWithSecondChance(t *testing.T) {
	c := newCache[int](3, time.Hour, 0, time.Second, time.Now)
	ctx := context.Background()
	loads := 0
	load := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { loads++; return v, nil }
	}
	for i := 0; i < 3; i++ {
		_, err := c.get(ctx, fmt.Sprint(i), load(i))
		require.NoError(t, err)
	}
	// Key 0 is used again, so the next insertion evicts key 1, not 0.
	_, ok := c.fresh("0")
	require.True(t, ok)
	_, err := c.get(ctx, "3", load(3))
	require.NoError(t, err)
	assert.Equal(t, 3, c.len())
	_, ok = c.fresh("0")
	assert.True(t, ok, "a referenced entry gets a second chance")
	_, ok = c.fresh("1")
	assert.False(t, ok, "the oldest unreferenced entry is evicted")
	assert.Equal(t, 4, loads)
}

func TestCacheInvalidateDropsLoadInFlight(t *testing.T) {
	c := newCache[int](10, time.Hour, 0, time.Second, time.Now)
	ctx := context.Background()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.get(ctx, "k", func(context.Context) (int, error) { <-release; return 1, nil })
	}()
	time.Sleep(10 * time.Millisecond)
	c.invalidate("k")
	close(release)
	<-done
	_, ok := c.fresh("k")
	assert.False(t, ok, "a value loaded before an invalidation is not kept")
}

func TestCacheCallerContextEndsWait(t *testing.T) {
	c := newCache[int](10, time.Hour, 0, time.Second, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.get(ctx, "k", func(context.Context) (int, error) {
		time.Sleep(50 * time.Millisecond)
		return 1, nil
	})
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestCacheEntriesExpireByTimer(t *testing.T) {
	c := newCache[int](10, 30*time.Millisecond, 0, time.Second, nil)
	_, err := c.get(context.Background(), "k", func(context.Context) (int, error) { return 1, nil })
	require.NoError(t, err)
	_, ok := c.fresh("k")
	require.True(t, ok)
	require.Eventually(t, func() bool { _, ok := c.fresh("k"); return !ok }, 2*time.Second, 5*time.Millisecond,
		"an entry expires after maxAge without any clock read on the hit path")
	c.purge()
}
