package kmstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// RunStoreTests runs the conformance suite that every kms.Store must pass.
//
// newStore must return an empty store and must be safe to call from
// parallel subtests: every subtest is parallel and asks for its own store.
// Register clean-up on the t it is given (t.Cleanup), not after
// RunStoreTests returns: parallel subtests run after that.
//
// What the suite holds a store to, beyond the kms.Store contract:
//
//   - Every error wraps a kms sentinel (or a context error) and names no
//     key bytes.
//   - Times are kept to at least StoreTimePrecision (microseconds),
//     truncating finer digits; any location may be returned. Empty and nil
//     byte slices are the same.
//   - A store returns and keeps copies: changing a record after PutKeyset,
//     or one that GetKeyset returned, changes nothing stored.
//   - PutKeyset with Revision > 0 for a keyset that does not exist fails
//     with ErrConflict; a failed PutKeyset leaves rec.Revision unchanged.
//   - Subject IDs may hold any valid UTF-8 except NUL: unicode, quotes,
//     slashes, dots, spaces, case variants; distinct IDs never collide.
//     Keyset names of the documented alphabet [A-Za-z0-9._-] (including
//     "." and "..") always round-trip; others may be refused with
//     ErrInvalidArgument.
//   - A cancelled context makes every method fail with context.Canceled.
//   - Concurrent read-modify-write rotations through PutKeyset's
//     compare-and-swap lose no version (see RunConcurrentRotations).
//   - The manifest round-trips every field, is absent (ErrNotFound) in a
//     new store, and PutManifest is a compare-and-swap on its revision
//     (ErrAlreadyExists for a second first write, ErrConflict for a stale
//     one) under which concurrent writers lose nothing.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) kms.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s kms.Store)
	}{
		{"GetMissingKeysetIsNotFound", testGetMissingKeyset},
		{"CreateKeysetRoundTripsEveryField", testCreateKeyset},
		{"CreateKeysetTwiceIsAlreadyExists", testCreateKeysetTwice},
		{"UpdateKeysetIncrementsRevision", testUpdateKeyset},
		{"StaleRevisionIsConflictAndWritesNothing", testStaleRevision},
		{"RevisionOfMissingKeysetIsConflict", testRevisionOfMissingKeyset},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"ListKeysetsSortedByName", testListKeysets},
		{"ConcurrentRotationsLoseNothing", func(t *testing.T, s kms.Store) {
			RunConcurrentRotations(t, []kms.Store{s}, 8, 10)
		}},
		{"SubjectKeyRoundTrips", testSubjectKeyRoundTrip},
		{"GetMissingSubjectKeyIsNotFound", testGetMissingSubjectKey},
		{"PutSubjectKeyTwiceIsAlreadyExists", testPutSubjectKeyTwice},
		{"ConcurrentPutSubjectKeyOneWins", testConcurrentPutSubjectKey},
		{"DestroySubjectKeyLeavesTombstone", testDestroySubjectKey},
		{"DestroyMissingSubjectKeyIsNotFound", testDestroyMissingSubjectKey},
		{"CancelledContext", testCancelledContext},
		{"OddSubjectIDsRoundTrip", testOddSubjectIDs},
		{"KeysetNamesRoundTrip", testKeysetNames},
		{"ErrorsLeakNoKeyBytes", testErrorsLeakNothing},
		{"ListSubjectKeysPagesLiveKeys", testListSubjectKeys},
		{"ReplaceSubjectKeyIsCompareAndSwap", testReplaceSubjectKey},
		{"ReplaceNeverRevivesATombstone", testReplaceRacesDestroy},
		{"GetMissingManifestIsNotFound", testGetMissingManifest},
		{"ManifestRoundTripsEveryField", testManifestRoundTrip},
		{"ManifestIsCompareAndSwap", testManifestCompareAndSwap},
		{"ManifestRevisionOfMissingIsConflict", testManifestRevisionOfMissing},
		{"ConcurrentManifestUpdatesLoseNothing", testConcurrentManifestUpdates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			tc.test(t, s)
		})
	}
}

// requireErrorIs fails unless err wraps target.
func requireErrorIs(t testing.TB, err, target error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.ErrorIs(t, err, target, msgAndArgs...)
}

func testGetMissingKeyset(t *testing.T, s kms.Store) {
	_, err := s.GetKeyset(t.Context(), uniqueName("missing"))
	requireErrorIs(t, err, kms.ErrNotFound)
}

func testCreateKeyset(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("create"))
	want := cloneKeyset(rec)
	require.NoError(t, s.PutKeyset(ctx, rec))
	assert.Equal(t, int64(1), rec.Revision, "PutKeyset sets rec.Revision to the new revision")

	got, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	want.Revision = 1
	assertKeysetEqual(t, want, got)
}

func testCreateKeysetTwice(t *testing.T, s kms.Store) {
	ctx := t.Context()
	first := newKeysetRecord(t, uniqueName("twice"))
	require.NoError(t, s.PutKeyset(ctx, first))

	second := newKeysetRecord(t, first.Name)
	err := s.PutKeyset(ctx, second)
	requireErrorIs(t, err, kms.ErrAlreadyExists)
	assert.Equal(t, int64(0), second.Revision, "a failed PutKeyset leaves Revision alone")

	got, err := s.GetKeyset(ctx, first.Name)
	require.NoError(t, err)
	assertKeysetEqual(t, first, got)
}

func testUpdateKeyset(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("update"))
	require.NoError(t, s.PutKeyset(ctx, rec))

	cur, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	cur.RootKey = "awskms://alias/other-root"
	cur.WrappedDataKey = randomBytes(t, 61)
	cur.EncryptedKeyset = randomBytes(t, 300)
	cur.Versions[2].Primary = false
	cur.Versions = append(cur.Versions, kms.VersionRecord{
		ID: 4, Number: 4, Status: kms.StatusEnabled, Primary: true,
		Created: baseTime.Add(72 * time.Hour), Updated: baseTime.Add(72 * time.Hour),
		Canary: randomBytes(t, 32),
	})
	cur.Updated = baseTime.Add(72 * time.Hour)
	want := cloneKeyset(cur)
	require.NoError(t, s.PutKeyset(ctx, cur))
	assert.Equal(t, int64(2), cur.Revision)

	got, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	want.Revision = 2
	assertKeysetEqual(t, want, got)
}

func testStaleRevision(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("stale"))
	require.NoError(t, s.PutKeyset(ctx, rec))

	a, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	b := cloneKeyset(a)

	a.RootKey = "writer-a"
	require.NoError(t, s.PutKeyset(ctx, a))
	require.Equal(t, int64(2), a.Revision)

	b.RootKey = "writer-b"
	b.EncryptedKeyset = randomBytes(t, 10)
	err = s.PutKeyset(ctx, b)
	requireErrorIs(t, err, kms.ErrConflict, "writing on a stale revision")
	assert.Equal(t, int64(1), b.Revision, "a failed PutKeyset leaves Revision alone")

	b.Revision = 7 // ahead of the store
	requireErrorIs(t, s.PutKeyset(ctx, b), kms.ErrConflict, "writing on a future revision")

	got, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	assertKeysetEqual(t, a, got)
}

func testRevisionOfMissingKeyset(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("ghost"))
	rec.Revision = 3
	requireErrorIs(t, s.PutKeyset(ctx, rec), kms.ErrConflict)
	_, err := s.GetKeyset(ctx, rec.Name)
	requireErrorIs(t, err, kms.ErrNotFound, "a failed PutKeyset wrote nothing")
}

func testRecordsAreCopies(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("copies"))
	require.NoError(t, s.PutKeyset(ctx, rec))
	want := cloneKeyset(rec)

	// Change what was put, and what was got.
	rec.WrappedDataKey[0] ^= 0xff
	rec.Versions[1].Canary[0] ^= 0xff
	rec.Versions[0].Status = kms.StatusEnabled
	got, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	got.EncryptedKeyset[0] ^= 0xff
	got.Versions[1].Canary[0] ^= 0xff
	got.Versions = append(got.Versions[:1], got.Versions[2:]...)

	again, err := s.GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	assertKeysetEqual(t, want, again)

	sk := newSubjectKeyRecord(t, uniqueName("copies-subject"))
	require.NoError(t, s.PutSubjectKey(ctx, sk))
	wantKey := *sk
	wantKey.EncryptedKey = slices.Clone(sk.EncryptedKey)
	sk.EncryptedKey[0] ^= 0xff
	gotKey, err := s.GetSubjectKey(ctx, sk.SubjectID)
	require.NoError(t, err)
	gotKey.EncryptedKey[1] ^= 0xff
	gotKey, err = s.GetSubjectKey(ctx, sk.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, &wantKey, gotKey)
}

func testListKeysets(t *testing.T, s kms.Store) {
	ctx := t.Context()
	empty, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	require.Empty(t, empty, "newStore must return an empty store")

	prefix := uniqueName("list")
	names := []string{"b", "a", "a.b", "A", "a-1", "z_9", "a0", "B"}
	want := map[string]*kms.KeysetRecord{}
	for i, n := range names {
		rec := newKeysetRecord(t, prefix+"."+n)
		require.NoError(t, s.PutKeyset(ctx, rec))
		if i%2 == 0 { // some at revision 2
			rec.RootKey = "rotated"
			require.NoError(t, s.PutKeyset(ctx, rec))
		}
		want[rec.Name] = rec
	}

	got, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	require.Len(t, got, len(names))
	gotNames := make([]string, len(got))
	for i, r := range got {
		gotNames[i] = r.Name
	}
	assert.True(t, slices.IsSorted(gotNames), "ListKeysets must sort by name (byte order): %q", gotNames)
	for _, r := range got {
		if w, ok := want[r.Name]; assert.True(t, ok, "unexpected keyset %q", r.Name) {
			assertKeysetEqual(t, w, r)
		}
	}
}

// RunConcurrentRotations checks PutKeyset's compare-and-swap under
// contention: it creates one keyset, then starts perStore goroutines on
// each of stores (which must share their storage: one store, or several
// opened on the same database, directory or file), each appending
// rotations versions by read-modify-write, retrying on ErrConflict. At the
// end every version must be present exactly once and the revision must be
// 1 + len(stores)*perStore*rotations.
func RunConcurrentRotations(t testing.TB, stores []kms.Store, perStore, rotations int) {
	t.Helper()
	require.NotEmpty(t, stores)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	rec := newKeysetRecord(t, uniqueName("rotate"))
	rec.Versions = rec.Versions[2:] // one version to start with
	rec.Versions[0].Number = 1
	require.NoError(t, stores[0].PutKeyset(ctx, rec))

	writers := len(stores) * perStore
	const maxAttempts = 100000
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range rotations {
				id := uint32(1_000_000 + w*1000 + i)
				if err := rotateOnce(ctx, s, rec.Name, id, maxAttempts); err != nil {
					t.Errorf("writer %d, rotation %d: %v", w, i, err)
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	got, err := stores[len(stores)-1].GetKeyset(ctx, rec.Name)
	require.NoError(t, err)
	total := writers * rotations
	assert.Equal(t, int64(1+total), got.Revision, "one revision per successful PutKeyset")
	require.Len(t, got.Versions, 1+total, "a version was lost or duplicated")
	seen := map[uint32]int{}
	for _, v := range got.Versions {
		seen[v.ID]++
	}
	for w := range writers {
		for i := range rotations {
			id := uint32(1_000_000 + w*1000 + i)
			assert.Equal(t, 1, seen[id], "version %d of writer %d present once", i, w)
		}
	}
	for i, v := range got.Versions {
		assert.Equal(t, i+1, v.Number, "versions keep their order")
	}
}

// rotateOnce appends one version by read-modify-write, retrying on
// conflict.
func rotateOnce(ctx context.Context, s kms.Store, name string, id uint32, maxAttempts int) error {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		cur, err := s.GetKeyset(ctx, name)
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		now := time.Now()
		for i := range cur.Versions {
			cur.Versions[i].Primary = false
		}
		cur.Versions = append(cur.Versions, kms.VersionRecord{
			ID: id, Number: len(cur.Versions) + 1, Status: kms.StatusEnabled, Primary: true,
			Created: now, Updated: now, Canary: []byte(fmt.Sprintf("canary-%d", id)),
		})
		cur.Updated = now
		err = s.PutKeyset(ctx, cur)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kms.ErrConflict):
			continue
		default:
			return fmt.Errorf("put: %w", err)
		}
	}
	return fmt.Errorf("still conflicting after %d attempts", maxAttempts)
}

func testSubjectKeyRoundTrip(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newSubjectKeyRecord(t, uniqueName("subject"))
	want := *rec
	require.NoError(t, s.PutSubjectKey(ctx, rec))
	got, err := s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, &want, got)
	assert.True(t, got.Destroyed.IsZero(), "a live key has no Destroyed time")
}

func testGetMissingSubjectKey(t *testing.T, s kms.Store) {
	_, err := s.GetSubjectKey(t.Context(), uniqueName("nobody"))
	requireErrorIs(t, err, kms.ErrNotFound)
}

func testPutSubjectKeyTwice(t *testing.T, s kms.Store) {
	ctx := t.Context()
	first := newSubjectKeyRecord(t, uniqueName("twice"))
	require.NoError(t, s.PutSubjectKey(ctx, first))
	second := newSubjectKeyRecord(t, first.SubjectID)
	requireErrorIs(t, s.PutSubjectKey(ctx, second), kms.ErrAlreadyExists)
	got, err := s.GetSubjectKey(ctx, first.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, first, got)
}

func testConcurrentPutSubjectKey(t *testing.T, s kms.Store) {
	ctx := t.Context()
	id := uniqueName("race")
	const writers = 8
	recs := make([]*kms.SubjectKeyRecord, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		recs[i] = newSubjectKeyRecord(t, id)
		wg.Go(func() { errs[i] = s.PutSubjectKey(ctx, recs[i]) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "two concurrent PutSubjectKey succeeded")
			winner = i
			continue
		}
		assert.ErrorIs(t, err, kms.ErrAlreadyExists)
	}
	require.NotEqual(t, -1, winner, "no PutSubjectKey succeeded")
	got, err := s.GetSubjectKey(ctx, id)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, recs[winner], got)
}

func testDestroySubjectKey(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newSubjectKeyRecord(t, uniqueName("shred"))
	require.NoError(t, s.PutSubjectKey(ctx, rec))
	other := newSubjectKeyRecord(t, uniqueName("bystander"))
	require.NoError(t, s.PutSubjectKey(ctx, other))

	at := baseTime.Add(96*time.Hour + 999).In(elsewhere)
	require.NoError(t, s.DestroySubjectKey(ctx, rec.SubjectID, at))

	got, err := s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err, "Get returns the tombstone")
	assert.Empty(t, got.EncryptedKey, "a tombstone holds no key material")
	want := &kms.SubjectKeyRecord{SubjectID: rec.SubjectID, Keyset: rec.Keyset, Created: rec.Created, Destroyed: at}
	assertSubjectKeyEqual(t, want, got)

	again := newSubjectKeyRecord(t, rec.SubjectID)
	requireErrorIs(t, s.PutSubjectKey(ctx, again), kms.ErrAlreadyExists, "a tombstone cannot be overwritten")

	require.NoError(t, s.DestroySubjectKey(ctx, rec.SubjectID, at.Add(time.Hour)), "destroying a tombstone is a no-op")
	got, err = s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, want, got) // first date kept

	gotOther, err := s.GetSubjectKey(ctx, other.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, other, gotOther)
}

func testDestroyMissingSubjectKey(t *testing.T, s kms.Store) {
	ctx := t.Context()
	id := uniqueName("nobody")
	requireErrorIs(t, s.DestroySubjectKey(ctx, id, baseTime), kms.ErrNotFound)
	_, err := s.GetSubjectKey(ctx, id)
	requireErrorIs(t, err, kms.ErrNotFound, "destroying nothing leaves no tombstone")
}

func testCancelledContext(t *testing.T, s kms.Store) {
	rec := newKeysetRecord(t, uniqueName("cancel"))
	require.NoError(t, s.PutKeyset(t.Context(), rec))
	sk := newSubjectKeyRecord(t, uniqueName("cancel"))
	require.NoError(t, s.PutSubjectKey(t.Context(), sk))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"GetKeyset":   func() error { _, err := s.GetKeyset(ctx, rec.Name); return err },
		"ListKeysets": func() error { _, err := s.ListKeysets(ctx); return err },
		"PutKeyset": func() error {
			c := cloneKeyset(rec)
			return s.PutKeyset(ctx, c)
		},
		"PutKeyset(create)": func() error { return s.PutKeyset(ctx, newKeysetRecord(t, uniqueName("cancel"))) },
		"GetSubjectKey":     func() error { _, err := s.GetSubjectKey(ctx, sk.SubjectID); return err },
		"PutSubjectKey":     func() error { return s.PutSubjectKey(ctx, newSubjectKeyRecord(t, uniqueName("cancel"))) },
		"DestroySubjectKey": func() error { return s.DestroySubjectKey(ctx, sk.SubjectID, baseTime) },
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, context.Canceled, "%s with a cancelled context", name)
	}
	// Nothing was written.
	got, err := s.GetKeyset(t.Context(), rec.Name)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Revision)
	gotKey, err := s.GetSubjectKey(t.Context(), sk.SubjectID)
	require.NoError(t, err)
	assert.True(t, gotKey.Destroyed.IsZero(), "a cancelled destroy destroyed nothing")
}

// oddIDs are subject IDs a store must keep apart and return exactly.
var oddIDs = []string{
	"alice@example.com", "Alice@example.com", "ALICE@EXAMPLE.COM",
	"Ünïcødé-用户-🔑", "ﬁ", "fi", // a ligature and its decomposition
	"e\u0301", "\u00e9", // the same é, decomposed and composed
	`quote"double`, "quote'single", `back\slash`, "a/b", "a_b", "a%2Fb", "a+b", "a b",
	"/leading-slash", "trailing-slash/", "../../etc/passwd", ".", "..", "...",
	" padded ", "tab\tnew\nline", "semi;colon--", "x' OR '1'='1", "$1", "?",
	strings.Repeat("long", 16),
}

func testOddSubjectIDs(t *testing.T, s kms.Store) {
	ctx := t.Context()
	prefix := uniqueName("odd") + ":"
	want := map[string]*kms.SubjectKeyRecord{}
	for _, id := range oddIDs {
		rec := newSubjectKeyRecord(t, prefix+id)
		require.NoError(t, s.PutSubjectKey(ctx, rec), "subject ID %q", id)
		want[rec.SubjectID] = rec
	}
	// An ID alone, without prefix, too: the store must not rely on one.
	bare := newSubjectKeyRecord(t, "../"+uniqueName("bare")+"/'\"")
	require.NoError(t, s.PutSubjectKey(ctx, bare))
	want[bare.SubjectID] = bare

	destroyed := prefix + "a/b"
	require.NoError(t, s.DestroySubjectKey(ctx, destroyed, baseTime))
	for id, rec := range want {
		got, err := s.GetSubjectKey(ctx, id)
		if !assert.NoError(t, err, "subject ID %q", id) {
			continue
		}
		if id == destroyed {
			assert.Empty(t, got.EncryptedKey, "subject ID %q", id)
			assert.False(t, got.Destroyed.IsZero(), "subject ID %q", id)
			continue
		}
		assertSubjectKeyEqual(t, rec, got)
	}
}

func testKeysetNames(t *testing.T, s kms.Store) {
	ctx := t.Context()
	seq := uniqueName("n")
	// Names of the documented alphabet, which every store must keep.
	valid := []string{
		".", "..", "...", "-", "_", "a..b", "-leading-dash", "Case." + seq, "case." + seq,
		strings.Repeat("x", 120) + seq[len(seq)-min(len(seq), 8):],
	}
	// Names outside it, which a store may refuse with ErrInvalidArgument.
	odd := []string{"a/b", "../up", `quote"s`, "it's", "Ünïcødé-名前", "sp ace", "back\\slash", "per%cent"}

	want := map[string]*kms.KeysetRecord{}
	for _, n := range valid {
		rec := newKeysetRecord(t, n)
		if err := s.PutKeyset(ctx, rec); !assert.NoError(t, err, "keyset name %q", n) {
			continue
		}
		want[n] = rec
	}
	for _, n := range odd {
		rec := newKeysetRecord(t, n+"."+seq)
		err := s.PutKeyset(ctx, rec)
		if errors.Is(err, kms.ErrInvalidArgument) {
			continue
		}
		if assert.NoError(t, err, "keyset name %q: refuse with ErrInvalidArgument or keep it", rec.Name) {
			want[rec.Name] = rec
		}
	}
	for n, rec := range want {
		got, err := s.GetKeyset(ctx, n)
		if assert.NoError(t, err, "keyset name %q", n) {
			assertKeysetEqual(t, rec, got)
		}
	}
	list, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	assert.Len(t, names, len(want), "ListKeysets: %q", names)
	assert.True(t, slices.IsSorted(names), "ListKeysets must sort by name (byte order): %q", names)
}

func testErrorsLeakNothing(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rec := newKeysetRecord(t, uniqueName("leak"))
	require.NoError(t, s.PutKeyset(ctx, rec))
	dup := newKeysetRecord(t, rec.Name)
	err := s.PutKeyset(ctx, dup)
	requireErrorIs(t, err, kms.ErrAlreadyExists)
	assertNoSecret(t, err, dup.WrappedDataKey, dup.EncryptedKeyset, dup.Versions[1].Canary)

	stale := cloneKeyset(rec)
	stale.Revision = 9
	err = s.PutKeyset(ctx, stale)
	requireErrorIs(t, err, kms.ErrConflict)
	assertNoSecret(t, err, stale.WrappedDataKey, stale.EncryptedKeyset)

	sk := newSubjectKeyRecord(t, uniqueName("leak"))
	require.NoError(t, s.PutSubjectKey(ctx, sk))
	dupKey := newSubjectKeyRecord(t, sk.SubjectID)
	err = s.PutSubjectKey(ctx, dupKey)
	requireErrorIs(t, err, kms.ErrAlreadyExists)
	assertNoSecret(t, err, sk.EncryptedKey, dupKey.EncryptedKey)
}

// rewrapper returns s as a kms.SubjectKeyRewrapper, skipping the test for a
// store that does not implement it (an optional capability).
func rewrapper(t *testing.T, s kms.Store) kms.SubjectKeyRewrapper {
	t.Helper()
	rw, ok := s.(kms.SubjectKeyRewrapper)
	if !ok {
		t.Skip("the store does not implement kms.SubjectKeyRewrapper")
	}
	return rw
}

func testListSubjectKeys(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rw := rewrapper(t, s)
	prefix := uniqueName("list") + "-"
	want := map[string]*kms.SubjectKeyRecord{}
	for i := range 23 {
		rec := newSubjectKeyRecord(t, fmt.Sprintf("%s%02d", prefix, i))
		require.NoError(t, s.PutSubjectKey(ctx, rec))
		want[rec.SubjectID] = rec
	}
	for _, i := range []int{3, 11, 12} {
		id := fmt.Sprintf("%s%02d", prefix, i)
		require.NoError(t, s.DestroySubjectKey(ctx, id, baseTime))
		delete(want, id)
	}
	// Other tests may share the store: keep this test's subjects only.
	got := map[string]*kms.SubjectKeyRecord{}
	cursor, pages := "", 0
	for {
		page, next, err := rw.ListSubjectKeys(ctx, cursor, 4)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 4, "a page holds at most limit records")
		pages++
		require.Less(t, pages, 100000, "the pages never end")
		for _, r := range page {
			assert.True(t, r.Destroyed.IsZero(), "tombstones are skipped")
			if !strings.HasPrefix(r.SubjectID, prefix) {
				continue
			}
			_, dup := got[r.SubjectID]
			require.False(t, dup, "a subject listed twice")
			got[r.SubjectID] = r
		}
		if next == "" {
			break
		}
		require.NotEqual(t, cursor, next, "the cursor moves")
		cursor = next
	}
	require.Len(t, got, len(want))
	for id, w := range want {
		assertSubjectKeyEqual(t, w, got[id])
	}
	_, _, err := rw.ListSubjectKeys(ctx, "", 0)
	requireErrorIs(t, err, kms.ErrInvalidArgument, "a limit of 0")
}

func testReplaceSubjectKey(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rw := rewrapper(t, s)
	rec := newSubjectKeyRecord(t, uniqueName("rewrap"))
	require.NoError(t, s.PutSubjectKey(ctx, rec))

	next := *rec
	next.Keyset, next.EncryptedKey = "subject-keys-2", randomBytes(t, 81)
	require.NoError(t, rw.ReplaceSubjectKey(ctx, &next, rec.EncryptedKey))
	got, err := s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, &next, got)

	stale := *rec
	stale.EncryptedKey = randomBytes(t, 81)
	requireErrorIs(t, rw.ReplaceSubjectKey(ctx, &stale, rec.EncryptedKey), kms.ErrConflict, "the old key is no longer stored")
	got, err = s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err)
	assertSubjectKeyEqual(t, &next, got) // a failed swap writes nothing

	missing := newSubjectKeyRecord(t, uniqueName("nobody"))
	requireErrorIs(t, rw.ReplaceSubjectKey(ctx, missing, missing.EncryptedKey), kms.ErrNotFound)
	_, err = s.GetSubjectKey(ctx, missing.SubjectID)
	requireErrorIs(t, err, kms.ErrNotFound, "replacing nothing creates nothing")

	require.NoError(t, s.DestroySubjectKey(ctx, rec.SubjectID, baseTime))
	revive := *rec
	revive.EncryptedKey = randomBytes(t, 81)
	requireErrorIs(t, rw.ReplaceSubjectKey(ctx, &revive, next.EncryptedKey), kms.ErrConflict, "a tombstone stays one")
	requireErrorIs(t, rw.ReplaceSubjectKey(ctx, &revive, nil), kms.ErrConflict, "even against its empty key")
	got, err = s.GetSubjectKey(ctx, rec.SubjectID)
	require.NoError(t, err)
	assert.Empty(t, got.EncryptedKey)
	assert.False(t, got.Destroyed.IsZero())
}

// testReplaceRacesDestroy races replacements against destruction: whichever
// wins, a destroyed subject stays destroyed.
func testReplaceRacesDestroy(t *testing.T, s kms.Store) {
	ctx := t.Context()
	rw := rewrapper(t, s)
	for range 10 {
		rec := newSubjectKeyRecord(t, uniqueName("race-shred"))
		require.NoError(t, s.PutSubjectKey(ctx, rec))
		var wg sync.WaitGroup
		var replaceErr error
		wg.Go(func() {
			next := *rec
			next.EncryptedKey = randomBytes(t, 81)
			replaceErr = rw.ReplaceSubjectKey(ctx, &next, rec.EncryptedKey)
		})
		wg.Go(func() { assert.NoError(t, s.DestroySubjectKey(ctx, rec.SubjectID, baseTime)) })
		wg.Wait()
		if replaceErr != nil {
			assert.ErrorIs(t, replaceErr, kms.ErrConflict)
		}
		got, err := s.GetSubjectKey(ctx, rec.SubjectID)
		require.NoError(t, err)
		assert.Empty(t, got.EncryptedKey, "destroyed, whatever the order")
		assert.False(t, got.Destroyed.IsZero())
	}
}
