package localkms_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

func testMux() *kms.URLMux {
	var mux kms.URLMux
	mux.Register(awskms.Scheme, &awskms.Opener{Options: awskms.Options{
		Credentials: awskms.StaticCredentials(testAccessKeyID, testSecretAccessKey, ""),
	}})
	return &mux
}

func TestOpenByURI(t *testing.T) {
	arn := createKey(t, "piiguard uri")
	alias := uniqueAlias("piiguard-uri")
	_, err := adminClient(t).CreateAlias(t.Context(), aliasInput(alias, arn))
	require.NoError(t, err)
	keyID := arn[len(arn)-36:]
	endpoint := url.QueryEscape(lk.srv.URL)
	mux := testMux()

	for _, uri := range []string{
		"awskms://" + keyID + "?region=" + testRegion + "&endpoint=" + endpoint,
		"awskms://" + alias + "?region=" + testRegion + "&endpoint=" + endpoint,
		"awskms:///" + alias + "?region=" + testRegion + "&endpoint=" + endpoint,
		"awskms:///" + arn + "?endpoint=" + endpoint, // region from the ARN
	} {
		rk, err := mux.OpenRootKey(t.Context(), uri)
		require.NoError(t, err, uri)
		wrapped, err := rk.Wrap(t.Context(), []byte("data key"), []byte("ad"))
		require.NoError(t, err, uri)
		got, err := rk.Unwrap(t.Context(), wrapped, []byte("ad"))
		require.NoError(t, err, uri)
		assert.Equal(t, "data key", string(got), uri)
		assert.Contains(t, rk.Name(), "awskms://", uri)
		require.NoError(t, rk.Close())
	}

	// All four name the same key: what one wraps, the others unwrap.
	a, err := mux.OpenRootKey(t.Context(), "awskms://"+keyID+"?region="+testRegion+"&endpoint="+endpoint)
	require.NoError(t, err)
	b, err := mux.OpenRootKey(t.Context(), "awskms:///"+arn+"?endpoint="+endpoint)
	require.NoError(t, err)
	wrapped, err := a.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	_, err = b.Unwrap(t.Context(), wrapped, nil)
	assert.NoError(t, err)
}

func TestOpenerRefusesBadURIs(t *testing.T) {
	mux := testMux()
	for name, uri := range map[string]string{
		"credentials as user info": "awskms://AKIAPIIGUARDTEST0001:" + testSecretAccessKey + "@alias/x?region=eu-west-2",
		"credentials as parameter": "awskms://alias/x?region=eu-west-2&secret_access_key=" + testSecretAccessKey,
		"unknown parameter":        "awskms://alias/x?region=eu-west-2&profile=" + testSecretAccessKey,
		"region twice":             "awskms://alias/x?region=eu-west-2&region=eu-west-1",
		"empty region":             "awskms://alias/x?region=",
		"no key":                   "awskms://?region=eu-west-2",
		"fragment":                 "awskms://alias/x?region=eu-west-2#frag",
		"opaque":                   "awskms:alias/x",
		"endpoint with user info":  "awskms://alias/x?region=eu-west-2&endpoint=" + url.QueryEscape("http://u:"+testSecretAccessKey+"@127.0.0.1:1"),
		"endpoint not http":        "awskms://alias/x?region=eu-west-2&endpoint=ftp%3A%2F%2Fhost",
	} {
		_, err := mux.OpenRootKey(t.Context(), uri)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), testSecretAccessKey, name)
		}
	}
}

func TestRootKeyNameKeepsRegion(t *testing.T) {
	rk, err := testMux().OpenRootKey(t.Context(), "awskms://alias/piiguard-name?endpoint=http%3A%2F%2F127.0.0.1%3A1&region=eu-west-1")
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "awskms://alias/piiguard-name?region=eu-west-1", rk.Name())
}
