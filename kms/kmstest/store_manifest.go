package kmstest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func testManifest(tb testing.TB, rev int64, names ...string) *kms.Manifest {
	tb.Helper()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	return &kms.Manifest{
		Revision:  rev,
		RootKey:   "local:/var/lib/app/root.key",
		RootCheck: []byte{0x01, 0x00, 0xff, 0x7f, 0x80},
		Keysets:   names,
		Created:   t0,
		Updated:   t0.Add(time.Minute),
	}
}

func testGetMissingManifest(t *testing.T, s kms.Store) {
	_, err := s.GetManifest(context.Background())
	requireErrorIs(t, err, kms.ErrNotFound, "a new store has no manifest")
}

func testManifestRoundTrip(t *testing.T, s kms.Store) {
	ctx := context.Background()
	m := testManifest(t, 0, "audit-mac", "pii-fields", "pii-search")
	require.NoError(t, s.PutManifest(ctx, m))
	assert.Equal(t, int64(1), m.Revision, "PutManifest sets the new revision")
	got, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Revision)
	assert.Equal(t, m.RootKey, got.RootKey)
	assert.Equal(t, m.RootCheck, got.RootCheck)
	assert.Equal(t, m.Keysets, got.Keysets)
	assert.True(t, m.Created.Equal(got.Created), "created %v, got %v", m.Created, got.Created)
	assert.True(t, m.Updated.Equal(got.Updated), "updated %v, got %v", m.Updated, got.Updated)

	// Records are copies.
	got.Keysets[0] = "changed"
	got.RootCheck[0] = 0xee
	again, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "audit-mac", again.Keysets[0])
	assert.Equal(t, byte(0x01), again.RootCheck[0])
}

func testManifestCompareAndSwap(t *testing.T, s kms.Store) {
	ctx := context.Background()
	require.NoError(t, s.PutManifest(ctx, testManifest(t, 0, "a")))
	requireErrorIs(t, s.PutManifest(ctx, testManifest(t, 0, "b")), kms.ErrAlreadyExists, "a second first write")

	m, err := s.GetManifest(ctx)
	require.NoError(t, err)
	m.Keysets = []string{"a", "b"}
	require.NoError(t, s.PutManifest(ctx, m))
	assert.Equal(t, int64(2), m.Revision)

	stale := testManifest(t, 1, "a", "c")
	requireErrorIs(t, s.PutManifest(ctx, stale), kms.ErrConflict, "a stale revision")
	got, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got.Keysets, "a refused write changes nothing")
	assert.Equal(t, int64(2), got.Revision)
}

func testManifestRevisionOfMissing(t *testing.T, s kms.Store) {
	requireErrorIs(t, s.PutManifest(context.Background(), testManifest(t, 3, "a")), kms.ErrConflict)
	_, err := s.GetManifest(context.Background())
	requireErrorIs(t, err, kms.ErrNotFound)
}

// testConcurrentManifestUpdates: writers adding one name each through
// read-modify-write compare-and-swap lose no name.
func testConcurrentManifestUpdates(t *testing.T, s kms.Store) {
	ctx := context.Background()
	require.NoError(t, s.PutManifest(ctx, testManifest(t, 0)))
	names := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for _, n := range names {
		wg.Go(func() {
			for range 200 {
				m, err := s.GetManifest(ctx)
				if err != nil {
					failures.Add(1)
					return
				}
				m.Keysets = insertSorted(m.Keysets, n)
				err = s.PutManifest(ctx, m)
				if err == nil {
					return
				}
				if !errors.Is(err, kms.ErrConflict) {
					failures.Add(1)
					return
				}
				time.Sleep(time.Millisecond)
			}
			failures.Add(1)
		})
	}
	wg.Wait()
	require.Zero(t, failures.Load())
	got, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, names, got.Keysets, "no name lost")
}

func insertSorted(names []string, n string) []string {
	out := make([]string, 0, len(names)+1)
	added := false
	for _, x := range names {
		if !added && n < x {
			out = append(out, n)
			added = true
		}
		if x != n {
			out = append(out, x)
		} else {
			added = true
		}
	}
	if !added {
		out = append(out, n)
	}
	return out
}
