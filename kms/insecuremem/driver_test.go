package insecuremem_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func newMemoryDriver(context.Context) (kms.Driver, error) {
	return insecuremem.NewDriver(), nil
}

func TestInsecureMemoryDriverConformance(t *testing.T) {
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: newMemoryDriver, NewOther: newMemoryDriver})
}

func TestInsecureMemoryDriverKeysAreIndependent(t *testing.T) {
	a, b := insecuremem.NewDriver(), insecuremem.NewDriver()
	defer a.Close()
	defer b.Close()
	assert.NotEqual(t, a.KeyID(), b.KeyID())
	assert.Len(t, a.KeyID(), 32)
	assert.Equal(t, "insecuremem.Driver(key_id="+a.KeyID()+")", fmt.Sprintf("%#v", a))
}

func TestCountingDriverConformance(t *testing.T) {
	newCounting := func(ctx context.Context) (kms.Driver, error) {
		d, err := newMemoryDriver(ctx)
		return kmstest.NewCountingDriver(d), err
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: newCounting, NewOther: newCounting})
}

func TestCountingDriverCountsCalls(t *testing.T) {
	ctx := context.Background()
	c := kmstest.NewCountingDriver(insecuremem.NewDriver())
	ct, err := c.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)
	for range 3 {
		_, err = c.Unwrap(ctx, ct, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), c.Wraps())
	assert.Equal(t, int64(3), c.Unwraps())

	c.Reset()
	assert.Zero(t, c.Wraps())
	assert.Zero(t, c.Unwraps())

	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.Equal(t, int64(2), c.Closes())
}

func TestCountingDriverSimulatesOutage(t *testing.T) {
	ctx := context.Background()
	c := kmstest.NewCountingDriver(insecuremem.NewDriver())
	rk := kms.NewRootKey(c, kms.RootKeyOptions{Name: "counted", MaxAttempts: 3, BaseDelay: time.Millisecond})
	defer rk.Close()
	ct, err := rk.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)

	c.SetUnavailable(true)
	_, err = rk.Unwrap(ctx, ct, nil)
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Equal(t, piiguard.CodeUnavailable, piiguard.ErrorCode(err))
	assert.Equal(t, int64(3), c.Unwraps(), "RootKey retries an outage up to MaxAttempts")

	c.SetUnavailable(false)
	pt, err := rk.Unwrap(ctx, ct, nil)
	require.NoError(t, err)
	assert.Equal(t, "k", string(pt))

	c.FailWith(kms.ErrPermissionDenied)
	c.Reset()
	_, err = rk.Wrap(ctx, []byte("k"), nil)
	require.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.Equal(t, int64(1), c.Wraps(), "a permanent error is not retried")
	c.FailWith(nil)
	_, err = rk.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)
}

// TestOpenerOpensANewKeyPerURI: the scheme, registered, opens a new random
// key at every open, named by the URI (its scheme in lower case).
func TestOpenerOpensANewKeyPerURI(t *testing.T) {
	var m kms.URLMux
	m.Register(insecuremem.Scheme, insecuremem.Opener{})
	a, err := m.OpenRootKey(context.Background(), "INSECURE-MEMORY://demo")
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, "insecure-memory://demo", a.Name())
	b, err := m.OpenRootKey(context.Background(), "insecure-memory://demo")
	require.NoError(t, err)
	defer b.Close()
	ct, err := a.Wrap(context.Background(), []byte("k"), nil)
	require.NoError(t, err)
	_, err = b.Unwrap(context.Background(), ct, nil)
	require.ErrorIs(t, err, kms.ErrInvalidCiphertext, "the same URI, another key")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.OpenRootKey(ctx, "insecure-memory://demo")
	require.ErrorIs(t, err, context.Canceled)
}
