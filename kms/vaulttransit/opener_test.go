package vaulttransit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/vaulttransit"
)

func hostOf(f *fakeVault) string { return strings.TrimPrefix(f.srv.URL, "http://") }

func TestOpenByURI(t *testing.T) {
	f := startFakeVault(t, "secrets/transit")
	createKey(t, f, "piiguard-root", "")
	t.Setenv("PIIGUARD_TEST_VAULT_TOKEN", appToken)
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})

	uri := "vault-transit://" + hostOf(f) + "/secrets/transit/keys/piiguard-root?token_env=PIIGUARD_TEST_VAULT_TOKEN&tls=false&namespace=team-a"
	rk, err := mux.OpenRootKey(t.Context(), uri)
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "vault-transit://"+hostOf(f)+"/secrets/transit/keys/piiguard-root?namespace=team-a&tls=false", rk.Name())
	wrapped, err := rk.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	require.NoError(t, err)
	got, err := rk.Unwrap(t.Context(), wrapped, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(got))
	assert.Equal(t, "team-a", *f.namespace.Load())
}

func TestOpenerTokenFromOptions(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "k", "")
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{Options: vaulttransit.Options{Token: appToken}})
	rk, err := mux.OpenRootKey(t.Context(), "vault-transit://"+hostOf(f)+"/transit/keys/k?tls=false")
	require.NoError(t, err)
	defer rk.Close()
	_, err = rk.Wrap(t.Context(), []byte("data key"), nil)
	assert.NoError(t, err)
}

func TestOpenerRefusesBadURIs(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_VAULT_TOKEN", appToken)
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
	const base = "vault-transit://vault.example:8200/transit/keys/k"
	for name, uri := range map[string]string{
		"token parameter":    base + "?token=" + rootToken,
		"vault_token":        base + "?vault_token=" + rootToken,
		"user info":          "vault-transit://" + rootToken + "@vault.example:8200/transit/keys/k?token_env=PIIGUARD_TEST_VAULT_TOKEN",
		"unknown parameter":  base + "?token_env=PIIGUARD_TEST_VAULT_TOKEN&role_id=" + rootToken,
		"no token":           base,
		"unset token_env":    base + "?token_env=PIIGUARD_TEST_NO_SUCH_VARIABLE",
		"token_env twice":    base + "?token_env=A&token_env=B",
		"bad tls":            base + "?token_env=PIIGUARD_TEST_VAULT_TOKEN&tls=maybe",
		"no keys segment":    "vault-transit://vault.example:8200/transit/k?token_env=PIIGUARD_TEST_VAULT_TOKEN",
		"no mount":           "vault-transit://vault.example:8200/keys/k?token_env=PIIGUARD_TEST_VAULT_TOKEN",
		"no host":            "vault-transit:///transit/keys/k?token_env=PIIGUARD_TEST_VAULT_TOKEN",
		"fragment":           base + "?token_env=PIIGUARD_TEST_VAULT_TOKEN#" + rootToken,
		"bad key name":       "vault-transit://vault.example:8200/transit/keys/-k-?token_env=PIIGUARD_TEST_VAULT_TOKEN",
		"trailing key slash": "vault-transit://vault.example:8200/transit/keys/?token_env=PIIGUARD_TEST_VAULT_TOKEN",
	} {
		_, err := mux.OpenRootKey(t.Context(), uri)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), rootToken, name)
			assert.NotContains(t, err.Error(), appToken, name)
		}
	}
}

func TestURIDefaultsToHTTPS(t *testing.T) {
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{Options: vaulttransit.Options{Token: appToken}})
	f := startFakeVault(t, "transit") // plain HTTP
	createKey(t, f, "k", "")
	rk, err := mux.OpenRootKey(t.Context(), "vault-transit://"+hostOf(f)+"/transit/keys/k")
	require.NoError(t, err)
	defer rk.Close()
	_, err = rk.Wrap(t.Context(), []byte("data key"), nil)
	assert.Error(t, err, "an HTTPS request to a plain HTTP server fails")
}
