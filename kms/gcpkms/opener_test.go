package gcpkms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/gcpkms"
)

func TestOpenByURI(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "uri")
	var mux kms.URLMux
	mux.Register(gcpkms.Scheme, &gcpkms.Opener{Options: gcpkms.Options{ClientOptions: f.clientOptions()}})
	for _, uri := range []string{"gcpkms://" + key, "gcpkms:///" + key} {
		rk, err := mux.OpenRootKey(t.Context(), uri)
		require.NoError(t, err, uri)
		wrapped, err := rk.Wrap(t.Context(), []byte("data key"), []byte("ad"))
		require.NoError(t, err, uri)
		got, err := rk.Unwrap(t.Context(), wrapped, []byte("ad"))
		require.NoError(t, err, uri)
		assert.Equal(t, "data key", string(got))
		require.NoError(t, rk.Close())
	}
}

func TestOpenerRefusesBadURIs(t *testing.T) {
	var mux kms.URLMux
	mux.Register(gcpkms.Scheme, &gcpkms.Opener{Options: gcpkms.Options{ClientOptions: clientOptionsFor("127.0.0.1:1", testToken)}})
	const key = "projects/p/locations/global/keyRings/r/cryptoKeys/k"
	for name, uri := range map[string]string{
		"user info":        "gcpkms://user:" + testToken + "@" + key,
		"token parameter":  "gcpkms://" + key + "?access_token=" + testToken,
		"empty query":      "gcpkms://" + key + "?",
		"fragment":         "gcpkms://" + key + "#" + testToken,
		"no crypto key":    "gcpkms://projects/p/locations/global/keyRings/r",
		"a key version":    "gcpkms://" + key + "/cryptoKeyVersions/1",
		"opaque":           "gcpkms:" + key,
		"wrong collection": "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeyz/k",
	} {
		_, err := mux.OpenRootKey(t.Context(), uri)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), testToken, name)
		}
	}
}
