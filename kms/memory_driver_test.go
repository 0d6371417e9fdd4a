package kms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func newMemoryDriver(context.Context) (kms.Driver, error) {
	return kms.NewInsecureMemoryDriver(), nil
}

func TestInsecureMemoryDriverConformance(t *testing.T) {
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: newMemoryDriver, NewOther: newMemoryDriver})
}

func TestInsecureMemoryDriverKeysAreIndependent(t *testing.T) {
	a, b := kms.NewInsecureMemoryDriver(), kms.NewInsecureMemoryDriver()
	defer a.Close()
	defer b.Close()
	assert.NotEqual(t, a.KeyID(), b.KeyID())
	assert.Len(t, a.KeyID(), 32)
	assert.Equal(t, "kms.InsecureMemoryDriver(key_id="+a.KeyID()+")", fmt.Sprintf("%#v", a))
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
	c := kmstest.NewCountingDriver(kms.NewInsecureMemoryDriver())
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
	c := kmstest.NewCountingDriver(kms.NewInsecureMemoryDriver())
	rk := kms.NewRootKey(c, kms.RootKeyOptions{Name: "counted", MaxAttempts: 3, BaseDelay: time.Millisecond})
	defer rk.Close()
	ct, err := rk.Wrap(ctx, []byte("k"), nil)
	require.NoError(t, err)

	c.SetUnavailable(true)
	_, err = rk.Unwrap(ctx, ct, nil)
	require.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Equal(t, kms.CodeUnavailable, kms.ErrorCode(err))
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
