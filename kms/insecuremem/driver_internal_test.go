package insecuremem

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// TestDriverCloseZeroesKey: Close closes the driver's cipher, which zeroes
// the root key (kms/internal/rootcipher's TestCloseZeroesKey); the key is
// then gone for good.
func TestDriverCloseZeroesKey(t *testing.T) {
	d := NewDriver()
	require.NoError(t, d.Close())
	_, err := d.c.Wrap(context.Background(), []byte("x"), nil)
	require.ErrorIs(t, err, kms.ErrClosed)
	require.NoError(t, d.Close())
}
