package multi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/multi"
)

func memoryBackends(names ...string) []multi.Backend {
	out := make([]multi.Backend, len(names))
	for i, n := range names {
		out[i] = multi.Backend{Name: n, Driver: insecuremem.NewDriver()}
	}
	return out
}

func conformance(t *testing.T, opts multi.Options, names ...string) {
	newDriver := func(context.Context) (kms.Driver, error) {
		return multi.New(memoryBackends(names...), opts)
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: newDriver, NewOther: newDriver})
}

func TestConformanceTwoBackends(t *testing.T) {
	conformance(t, multi.Options{}, "primary", "dr")
}

func TestConformanceThreeBackendsParallelUnwrap(t *testing.T) {
	conformance(t, multi.Options{ParallelUnwrap: true}, "hsm", "aws", "gcp")
}

func TestConformanceQuorumAndTimeout(t *testing.T) {
	conformance(t, multi.Options{WrapQuorum: 1, AttemptTimeout: time.Minute}, "a", "b")
}

func TestConformanceOneBackend(t *testing.T) {
	conformance(t, multi.Options{}, "only")
}

// counting returns a multi driver over CountingDrivers, and the counters.
func counting(t *testing.T, opts multi.Options, names ...string) (*multi.Driver, []*kmstest.CountingDriver) {
	t.Helper()
	bs := memoryBackends(names...)
	cs := make([]*kmstest.CountingDriver, len(bs))
	for i := range bs {
		cs[i] = kmstest.NewCountingDriver(bs[i].Driver)
		bs[i].Driver = cs[i]
	}
	d, err := multi.New(bs, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d, cs
}

func TestLosingOneBackendLosesNothing(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("parallel=%v", parallel), func(t *testing.T) {
			ctx := t.Context()
			d, cs := counting(t, multi.Options{ParallelUnwrap: parallel}, "hsm", "aws", "gcp")
			ad := []byte("keyset/customers")
			ct, err := d.Wrap(ctx, []byte("data key"), ad)
			require.NoError(t, err)

			// Any one backend down, and then any two: the rest unwrap.
			for down := range 3 {
				cs[down].SetUnavailable(true)
				pt, err := d.Unwrap(ctx, ct, ad)
				require.NoError(t, err, "backend %d down", down)
				assert.Equal(t, "data key", string(pt))
				cs[(down+1)%3].SetUnavailable(true)
				pt, err = d.Unwrap(ctx, ct, ad)
				require.NoError(t, err, "backends %d and %d down", down, (down+1)%3)
				assert.Equal(t, "data key", string(pt))
				cs[down].SetUnavailable(false)
				cs[(down+1)%3].SetUnavailable(false)
			}

			// All down: unavailable, naming every backend.
			for _, c := range cs {
				c.SetUnavailable(true)
			}
			_, err = d.Unwrap(ctx, ct, ad)
			assert.ErrorIs(t, err, kms.ErrUnavailable)
			assert.Equal(t, piiguard.CodeUnavailable, piiguard.ErrorCode(err))
			var me *multi.Error
			require.ErrorAs(t, err, &me)
			require.Len(t, me.Backends, 3)
			assert.Equal(t, []string{"hsm", "aws", "gcp"}, []string{me.Backends[0].Backend, me.Backends[1].Backend, me.Backends[2].Backend})
			assert.ErrorContains(t, err, "hsm:")
		})
	}
}

// TestDisasterRecoveryWithTheOtherBackendAlone loses a backend for good:
// its key file is gone. A new multi root key over the surviving backend
// only still opens what the old one wrapped.
func TestDisasterRecoveryWithTheOtherBackendAlone(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	pass := []byte("correct horse battery staple, twice over")
	opts := localkey.Options{InsecureFastKDFForTests: true}
	site1, err := localkey.Create(filepath.Join(dir, "site1.key"), pass, opts)
	require.NoError(t, err)
	site2, err := localkey.Create(filepath.Join(dir, "site2.key"), pass, opts)
	require.NoError(t, err)
	d, err := multi.New([]multi.Backend{{Name: "site1", Driver: site1}, {Name: "site2", Driver: site2}}, multi.Options{})
	require.NoError(t, err)
	ct, err := d.Wrap(ctx, []byte("data key"), []byte("ad"))
	require.NoError(t, err)
	require.NoError(t, d.Close())

	// Site 1 burns down. Site 2's key file is all that is left.
	site2again, err := localkey.Open(filepath.Join(dir, "site2.key"), pass, localkey.Options{})
	require.NoError(t, err)
	survivor, err := multi.New([]multi.Backend{{Name: "site2", Driver: site2again}}, multi.Options{})
	require.NoError(t, err)
	defer survivor.Close()
	pt, err := survivor.Unwrap(ctx, ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(pt))
}

func TestWrapNeedsEveryBackendByDefault(t *testing.T) {
	ctx := t.Context()
	d, cs := counting(t, multi.Options{}, "a", "b")
	cs[1].SetUnavailable(true)
	_, err := d.Wrap(ctx, []byte("k"), nil)
	require.ErrorIs(t, err, kms.ErrUnavailable, "a wrap that would leave a backend out fails")
	var me *multi.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "wrap", me.Op)
	require.Len(t, me.Backends, 1)
	assert.Equal(t, "b", me.Backends[0].Backend)

	cs[1].FailWith(kms.ErrPermissionDenied)
	_, err = d.Wrap(ctx, []byte("k"), nil)
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
}

func TestWrapQuorum(t *testing.T) {
	ctx := t.Context()
	d, cs := counting(t, multi.Options{WrapQuorum: 2}, "a", "b", "c")
	cs[2].SetUnavailable(true)
	ct, err := d.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err, "two of three is the quorum")
	cs[2].SetUnavailable(false)

	// The container has no entry for c: with a and b gone, it is lost.
	cs[0].SetUnavailable(true)
	cs[1].SetUnavailable(true)
	before := cs[2].Unwraps()
	_, err = d.Unwrap(ctx, ct, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Equal(t, before, cs[2].Unwraps(), "c is not asked: it has no entry")
	cs[1].SetUnavailable(false)
	pt, err := d.Unwrap(ctx, ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "k", string(pt))

	cs[0].SetUnavailable(true)
	cs[1].SetUnavailable(true)
	_, err = d.Wrap(ctx, []byte("k"), nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable, "one of three is below the quorum")
}

func TestUnwrapAsksBackendsInOrder(t *testing.T) {
	ctx := t.Context()
	d, cs := counting(t, multi.Options{}, "first", "second")
	ct, err := d.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)
	for range 5 {
		_, err := d.Unwrap(ctx, ct, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(5), cs[0].Unwraps())
	assert.Zero(t, cs[1].Unwraps(), "the second backend is asked only when the first fails")
	assert.Equal(t, []string{"first", "second"}, d.Backends())
}

func TestUnwrapErrorClasses(t *testing.T) {
	ctx := t.Context()
	d, cs := counting(t, multi.Options{}, "a", "b")
	ct, err := d.Wrap(ctx, []byte("k"), []byte("ad"))
	require.NoError(t, err)

	_, err = d.Unwrap(ctx, ct, []byte("other"))
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, "every backend says invalid")

	cs[0].FailWith(kms.ErrInvalidCiphertext)
	cs[1].SetUnavailable(true)
	_, err = d.Unwrap(ctx, ct, []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrUnavailable, "invalid for one, unavailable for the other: a retry may succeed")

	cs[1].FailWith(kms.ErrPermissionDenied)
	_, err = d.Unwrap(ctx, ct, []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrPermissionDenied, "a refusal says more than invalid")
	assert.NotErrorIs(t, err, kms.ErrInvalidCiphertext, "exactly one class")
}

func TestContainerTagBindsEveryEntry(t *testing.T) {
	ctx := t.Context()
	d, _ := counting(t, multi.Options{}, "a", "b")
	ct1, err := d.Wrap(ctx, []byte("k1"), nil)
	require.NoError(t, err)
	ct2, err := d.Wrap(ctx, []byte("k2"), nil)
	require.NoError(t, err)
	require.Equal(t, len(ct1), len(ct2))

	// Splice: a's entry from ct1, the rest from ct2. Backend a opens its
	// entry, but the tag proves the container was changed.
	split := bytes.Index(ct1, []byte{1, 'b'}) // b's entry starts with its name length and name
	require.Positive(t, split)
	spliced := append(bytes.Clone(ct1[:split]), ct2[split:]...)
	_, err = d.Unwrap(ctx, spliced, nil)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.ErrorContains(t, err, "tag")
}

func TestSlowBackendIsSkipped(t *testing.T) {
	ctx := t.Context()
	fast := insecuremem.NewDriver()
	bs := []multi.Backend{{Name: "slow", Driver: hangingDriver{}}, {Name: "fast", Driver: fast}}

	// Wrapping needs both: make the container with the fast one under a
	// quorum of 1 and a short attempt timeout.
	w, err := multi.New(bs, multi.Options{WrapQuorum: 1, AttemptTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	ct, err := w.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err, "the hung backend counts as unavailable after AttemptTimeout")
	pt, err := w.Unwrap(ctx, ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "k", string(pt))

	// Pretend the hung backend had an entry: wrap under a multi whose
	// "slow" backend works, then unwrap with one where it hangs.
	mem := insecuremem.NewDriver()
	both, err := multi.New([]multi.Backend{{Name: "slow", Driver: mem}, {Name: "fast", Driver: fast}}, multi.Options{})
	require.NoError(t, err)
	ct, err = both.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)

	for name, opts := range map[string]multi.Options{
		"in order with a timeout": {AttemptTimeout: 20 * time.Millisecond},
		"in parallel":             {ParallelUnwrap: true},
	} {
		d, err := multi.New(bs, opts)
		require.NoError(t, err)
		start := time.Now()
		pt, err := d.Unwrap(ctx, ct, nil)
		require.NoError(t, err, name)
		assert.Equal(t, "k", string(pt), name)
		assert.Less(t, time.Since(start), 5*time.Second, name)
	}

	// Without a timeout, in order, the caller's deadline is what ends it.
	d, err := multi.New(bs, multi.Options{})
	require.NoError(t, err)
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = d.Unwrap(dctx, ct, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestNewValidates(t *testing.T) {
	mem := func() kms.Driver { return insecuremem.NewDriver() }
	for name, tc := range map[string]struct {
		bs   []multi.Backend
		opts multi.Options
	}{
		"no backends":      {nil, multi.Options{}},
		"empty name":       {[]multi.Backend{{Name: "", Driver: mem()}}, multi.Options{}},
		"bad character":    {[]multi.Backend{{Name: "a b", Driver: mem()}}, multi.Options{}},
		"repeated name":    {[]multi.Backend{{Name: "a", Driver: mem()}, {Name: "a", Driver: mem()}}, multi.Options{}},
		"nil driver":       {[]multi.Backend{{Name: "a"}}, multi.Options{}},
		"quorum too large": {memoryBackends("a", "b"), multi.Options{WrapQuorum: 3}},
		"negative quorum":  {memoryBackends("a", "b"), multi.Options{WrapQuorum: -1}},
		"negative timeout": {memoryBackends("a"), multi.Options{AttemptTimeout: -time.Second}},
		"17 backends":      {memoryBackends("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q"), multi.Options{}},
	} {
		_, err := multi.New(tc.bs, tc.opts)
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, name)
	}
}

func TestCloseClosesEveryBackend(t *testing.T) {
	d, cs := counting(t, multi.Options{}, "a", "b")
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	for _, c := range cs {
		assert.Equal(t, int64(1), c.Closes())
	}
	_, err := d.Wrap(t.Context(), []byte("k"), nil)
	assert.ErrorIs(t, err, kms.ErrClosed)
}

func TestFormattingShowsNamesOnly(t *testing.T) {
	d, err := multi.New(memoryBackends("hsm", "aws"), multi.Options{WrapQuorum: 1})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, "multi.Driver(backends=hsm,aws, wrap quorum=1)", fmt.Sprintf("%#v", d))
	assert.Equal(t, d.String(), fmt.Sprintf("%x", d))
}

func TestErrorWrapsOneSentinel(t *testing.T) {
	e := &multi.Error{Op: "unwrap", Reason: "r", Class: kms.ErrUnavailable, Backends: []multi.BackendError{
		{Backend: "a", Err: fmt.Errorf("x: %w", kms.ErrInvalidCiphertext)},
	}}
	assert.ErrorIs(t, e, kms.ErrUnavailable)
	assert.False(t, errors.Is(e, kms.ErrInvalidCiphertext), "backend errors are reachable through Backends, not errors.Is")
	assert.Equal(t, "multi: unwrap: r [a: x: invalid ciphertext]: unavailable", e.Error())
}
