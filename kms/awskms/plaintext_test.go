package awskms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

// TestPlainHTTPEndpointOnlyToThisMachine: data keys never cross the network
// unencrypted unless an option with a loud name says so.
func TestPlainHTTPEndpointOnlyToThisMachine(t *testing.T) {
	for _, ep := range []string{"http://kms.internal:4599", "http://10.0.0.7"} {
		_, err := awskms.New(t.Context(), "alias/k", testOptions(ep))
		require.ErrorIs(t, err, kms.ErrInvalidArgument, ep)
		assert.Contains(t, err.Error(), "plain http")
		assert.NotContains(t, err.Error(), testSecretAccessKey)
	}
	for _, ep := range []string{"https://kms.internal", "http://127.0.0.1:4599", "http://localhost:4599"} {
		d, err := awskms.New(t.Context(), "alias/k", testOptions(ep))
		require.NoError(t, err, ep)
		require.NoError(t, d.Close())
	}
	opts := testOptions("http://kms.internal:4599")
	opts.InsecureAllowPlaintextHTTP = true
	d, err := awskms.New(t.Context(), "alias/k", opts)
	require.NoError(t, err)
	require.NoError(t, d.Close())
}
