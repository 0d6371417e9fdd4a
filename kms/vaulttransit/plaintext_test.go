package vaulttransit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/vaulttransit"
)

// TestPlainHTTPOnlyToThisMachine: the token and the data keys never cross
// the network unencrypted unless an option with a loud name says so.
func TestPlainHTTPOnlyToThisMachine(t *testing.T) {
	ctx := context.Background()
	opts := vaulttransit.Options{Token: "hvs.TEST-TOKEN-never-printed"}
	for _, addr := range []string{"http://vault.example.com:8200", "http://10.1.2.3:8200", "http://[2001:db8::1]:8200"} {
		_, err := vaulttransit.New(ctx, addr, "transit", "k", opts)
		require.ErrorIs(t, err, kms.ErrInvalidArgument, addr)
		assert.Contains(t, err.Error(), "plain http")
		assert.NotContains(t, err.Error(), "TEST-TOKEN")
	}
	for _, addr := range []string{"https://vault.example.com:8200", "http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:8200"} {
		d, err := vaulttransit.New(ctx, addr, "transit", "k", opts)
		require.NoError(t, err, addr)
		require.NoError(t, d.Close())
	}
	loud := opts
	loud.InsecureAllowPlaintextHTTP = true
	d, err := vaulttransit.New(ctx, "http://vault.example.com:8200", "transit", "k", loud)
	require.NoError(t, err)
	require.NoError(t, d.Close())

	// By URI: tls=false to another machine is refused too.
	t.Setenv("PIIGUARD_TEST_VAULT_TOKEN", "hvs.TEST-TOKEN-never-printed")
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
	_, err = mux.OpenRootKey(ctx, "vault-transit://vault.example.com:8200/transit/keys/k?token_env=PIIGUARD_TEST_VAULT_TOKEN&tls=false")
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
}
