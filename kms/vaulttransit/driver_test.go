package vaulttransit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/vaulttransit"
)

// admin returns an Admin for f with the root token.
func admin(t testing.TB, f *fakeVault) *vaulttransit.Admin {
	t.Helper()
	a, err := vaulttransit.NewAdmin(f.srv.URL, f.mount, vaulttransit.Options{Token: rootToken})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// createKey creates a Transit key of type typ on f.
func createKey(t testing.TB, f *fakeVault, name, typ string) {
	t.Helper()
	require.NoError(t, admin(t, f).CreateKey(context.Background(), name, typ))
}

// newDriver returns a driver with the application token over key name of
// f, closed at the end of t.
func newDriver(t testing.TB, f *fakeVault, name string) *vaulttransit.Driver {
	t.Helper()
	d, err := vaulttransit.New(context.Background(), f.srv.URL, f.mount, name, vaulttransit.Options{Token: appToken})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	for _, typ := range []string{"aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"} {
		t.Run(typ, func(t *testing.T) {
			f := startFakeVault(t, "transit")
			createKey(t, f, "root-a", typ)
			createKey(t, f, "root-b", typ)
			open := func(name string) func(context.Context) (kms.Driver, error) {
				return func(ctx context.Context) (kms.Driver, error) {
					return vaulttransit.New(ctx, f.srv.URL, "transit", name, vaulttransit.Options{Token: appToken})
				}
			}
			kmstest.RunDriverTests(t, kmstest.HarnessFuncs{
				New:      open("root-a"),
				NewOther: open("root-b"),
				Secret:   [][]byte{[]byte(appToken), []byte(rootToken)},
			})
		})
	}
}

func TestAssociatedDataIsTransitAssociatedData(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "ad", "")
	d := newDriver(t, f, "ad")
	ad := []byte("piiguard.keyset.v1\x00customers\x00aead")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), ad)
	require.NoError(t, err)
	require.Equal(t, byte(0x01), wrapped[0])
	assert.True(t, strings.HasPrefix(string(wrapped[1:]), "vault:v1:"), "the Transit ciphertext is kept as is")

	// The documented format: Transit itself decrypts wrapped[1:] with
	// associated_data = base64(ad), to 0x01 || secret.
	resp, err := http.Post(f.srv.URL+"/v1/transit/decrypt/ad", "application/json", strings.NewReader(
		`{"ciphertext":"`+string(wrapped[1:])+`","associated_data":"`+base64.StdEncoding.EncodeToString(ad)+`"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 403, resp.StatusCode, "no token, no answer")
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/transit/decrypt/ad", strings.NewReader(
		`{"ciphertext":"`+string(wrapped[1:])+`","associated_data":"`+base64.StdEncoding.EncodeToString(ad)+`"}`))
	req.Header.Set("X-Vault-Token", appToken)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	assert.Contains(t, buf.String(), base64.StdEncoding.EncodeToString([]byte("\x01data key")))

	_, err = d.Unwrap(t.Context(), wrapped, []byte("piiguard.keyset.v1\x00orders\x00aead"))
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.Contains(t, err.Error(), "message authentication failed")
}

func TestOldVaultIgnoringAssociatedDataFailsClosed(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "old", "")
	d := newDriver(t, f, "old")
	f.ignoreAD.Store(true)
	_, err := d.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrBackend)
	assert.Contains(t, err.Error(), "ignored associated_data")

	f.ignoreAD.Store(false)
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	require.NoError(t, err)
	f.ignoreAD.Store(true)
	_, err = d.Unwrap(t.Context(), wrapped, []byte("ad"))
	assert.Error(t, err, "a Vault that ignores associated data on decrypt is refused too")
}

func TestKeyVersionsAndRotation(t *testing.T) {
	f := startFakeVault(t, "transit")
	a := admin(t, f)
	require.NoError(t, a.CreateKey(t.Context(), "rotating", "aes256-gcm96"))
	d := newDriver(t, f, "rotating")

	v1, err := d.Wrap(t.Context(), []byte("under v1"), []byte("ad"))
	require.NoError(t, err)
	require.NoError(t, a.Rotate(t.Context(), "rotating"))
	v2, err := d.Wrap(t.Context(), []byte("under v2"), []byte("ad"))
	require.NoError(t, err)

	n, err := vaulttransit.KeyVersion(v1)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = vaulttransit.KeyVersion(v2)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.True(t, strings.HasPrefix(string(v2[1:]), "vault:v2:"))

	info, err := a.Key(t.Context(), "rotating")
	require.NoError(t, err)
	assert.Equal(t, "aes256-gcm96", info.Type)
	assert.Equal(t, 2, info.LatestVersion)
	assert.Equal(t, 1, info.MinDecryptionVersion)
	assert.Len(t, info.Versions, 2)

	for want, w := range map[string][]byte{"under v1": v1, "under v2": v2} {
		got, err := d.Unwrap(t.Context(), w, []byte("ad"))
		require.NoError(t, err, want)
		assert.Equal(t, want, string(got))
	}

	// Raising min_decryption_version retires v1: its keys fail as disabled.
	require.NoError(t, a.SetMinDecryptionVersion(t.Context(), "rotating", 2))
	_, err = d.Unwrap(t.Context(), v1, []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrDisabled)
	assert.Contains(t, err.Error(), "too old")
	_, err = d.Unwrap(t.Context(), v2, []byte("ad"))
	assert.NoError(t, err)

	// Lowering it again brings v1 back: it is not erasure.
	require.NoError(t, a.SetMinDecryptionVersion(t.Context(), "rotating", 1))
	_, err = d.Unwrap(t.Context(), v1, []byte("ad"))
	assert.NoError(t, err)

	err = a.SetMinDecryptionVersion(t.Context(), "rotating", 9)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "above the latest version")
}

func TestVersionTooNew(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "k", "")
	d := newDriver(t, f, "k")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	forged := append([]byte{0x01}, strings.Replace(string(wrapped[1:]), "vault:v1:", "vault:v7:", 1)...)
	_, err = d.Unwrap(t.Context(), forged, nil)
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.Contains(t, err.Error(), "version is too new")
}

func TestLenientCiphertextsAreRefusedLocally(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "strict", "")
	d := newDriver(t, f, "strict")
	wrapped, err := d.Wrap(t.Context(), []byte("a 32-byte data key for the test!"), nil)
	require.NoError(t, err)
	ct := string(wrapped[1:])
	b64 := strings.TrimPrefix(ct, "vault:v1:")
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	require.Equal(t, 1, len(raw)%3, "the test needs a last base64 group with unused bits")
	// Same bytes, non-zero unused bits in the last character: Vault's
	// lenient decoding would accept it.
	last := strings.IndexByte(b64, '=') - 1
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	sloppy := b64[:last] + string(alphabet[strings.IndexByte(alphabet, b64[last])^1]) + b64[last+1:]
	sloppyRaw, err := base64.StdEncoding.DecodeString(sloppy)
	require.NoError(t, err)
	require.Equal(t, raw, sloppyRaw, "the lenient decoder reads the same bytes")

	before := f.requests.Load()
	for name, c := range map[string]string{
		"v0 (Vault reads v1)":       "vault:v0:" + b64,
		"v01":                       "vault:v01:" + b64,
		"unused base64 bits":        "vault:v1:" + sloppy,
		"base64 with a line break":  "vault:v1:" + b64[:8] + "\n" + b64[8:],
		"no padding":                "vault:v1:" + strings.TrimRight(b64, "="),
		"empty base64":              "vault:v1:",
		"no prefix":                 b64,
		"other prefix":              "vault:x1:" + b64,
		"negative version":          "vault:v-1:" + b64,
		"huge version":              "vault:v99999999999:" + b64,
		"version without separator": "vault:v1" + b64,
	} {
		_, err := d.Unwrap(t.Context(), append([]byte{0x01}, c...), nil)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
	assert.Equal(t, before, f.requests.Load(), "malformed ciphertexts are refused without a call to Vault")

	got, err := d.Unwrap(t.Context(), wrapped, nil)
	require.NoError(t, err)
	assert.Equal(t, "a 32-byte data key for the test!", string(got))
}

func TestErrors(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "k", "")
	d := newDriver(t, f, "k")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	t.Run("bad token is permission denied", func(t *testing.T) {
		bad, err := vaulttransit.New(t.Context(), f.srv.URL, "transit", "k", vaulttransit.Options{Token: "hvs.wrong-SECRET-token"})
		require.NoError(t, err)
		_, err = bad.Wrap(t.Context(), []byte("data key"), nil)
		assert.ErrorIs(t, err, kms.ErrPermissionDenied)
		assert.Contains(t, err.Error(), "HTTP 403")
		assert.NotContains(t, err.Error(), "hvs.wrong-SECRET-token")
		_, err = bad.Unwrap(t.Context(), wrapped, nil)
		assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	})
	t.Run("unknown key: no upsert without create", func(t *testing.T) {
		missing := newDriver(t, f, "missing")
		_, err := missing.Wrap(t.Context(), []byte("data key"), nil)
		assert.ErrorIs(t, err, kms.ErrPermissionDenied, "the application token may not create keys")
		_, err = missing.Unwrap(t.Context(), wrapped, nil)
		assert.ErrorIs(t, err, kms.ErrNotFound)
		assert.Contains(t, err.Error(), "encryption key not found")
	})
	t.Run("wrong mount is not found", func(t *testing.T) {
		other, err := vaulttransit.New(t.Context(), f.srv.URL, "not-transit", "k", vaulttransit.Options{Token: appToken})
		require.NoError(t, err)
		_, err = other.Wrap(t.Context(), []byte("data key"), nil)
		assert.ErrorIs(t, err, kms.ErrNotFound)
		assert.Contains(t, err.Error(), "HTTP 404")
	})
	t.Run("derived key without context is invalid argument", func(t *testing.T) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/transit/keys/derived", strings.NewReader(`{"derived":true}`))
		req.Header.Set("X-Vault-Token", rootToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		_, err = newDriver(t, f, "derived").Wrap(t.Context(), []byte("data key"), nil)
		assert.ErrorIs(t, err, kms.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "key derivation")
	})
	t.Run("sealed is unavailable", func(t *testing.T) {
		f.sealed.Store(true)
		defer f.sealed.Store(false)
		_, err := d.Wrap(t.Context(), []byte("data key"), nil)
		assert.ErrorIs(t, err, kms.ErrUnavailable)
		assert.Contains(t, err.Error(), "HTTP 503: Vault is sealed")
		_, err = d.Unwrap(t.Context(), wrapped, nil)
		assert.ErrorIs(t, err, kms.ErrUnavailable)
	})
	for _, status := range []int{429, 412, 500, 502, 503, 504, 473} {
		f.failNext(1, status)
		_, err := d.Unwrap(t.Context(), wrapped, nil)
		assert.ErrorIs(t, err, kms.ErrUnavailable, "HTTP %d", status)
	}
	f.failNext(1, 405)
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
}

func TestNonVaultAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		want   error
	}{
		"proxy error page":     {502, "<html>bad gateway S3CRET</html>", kms.ErrUnavailable},
		"200 but not JSON":     {200, "<html>login S3CRET</html>", kms.ErrBackend},
		"200 without data":     {200, `{"data":null}`, kms.ErrBackend},
		"redirect to standby":  {307, "", kms.ErrUnavailable},
		"unexpected 418":       {418, `{"errors":["teapot"]}`, kms.ErrBackend},
		"odd ciphertext":       {200, `{"data":{"ciphertext":"vault:v1:not base64!"}}`, kms.ErrBackend},
		"custom version templ": {200, `{"data":{"ciphertext":"mykey:1:AAAA"}}`, kms.ErrBackend},
	} {
		t.Run(name, func(t *testing.T) {
			var sawToken string
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				sawToken = r.Header.Get("X-Vault-Token")
				if tc.status == 307 {
					w.Header().Set("Location", "http://127.0.0.1:1/v1/transit/encrypt/k")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			d, err := vaulttransit.New(t.Context(), srv, "transit", "k", vaulttransit.Options{Token: appToken})
			require.NoError(t, err)
			_, err = d.Wrap(t.Context(), []byte("data key"), nil)
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), "S3CRET")
			assert.NotContains(t, err.Error(), appToken)
			assert.Equal(t, appToken, sawToken)
		})
	}
}

func TestServerDownIsUnavailable(t *testing.T) {
	f := newFakeVault("transit")
	createKey(t, f, "k", "")
	d := newDriver(t, f, "k")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	f.srv.Close() // the server stops mid-test

	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "cannot reach Vault")

	rk := kms.NewRootKey(d, kms.RootKeyOptions{Name: "vault-outage", MaxAttempts: 3, BaseDelay: time.Millisecond})
	_, err = rk.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
}

func TestTransientErrorsAreRetriedByRootKey(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "k", "")
	rk := kms.NewRootKey(newDriver(t, f, "k"), kms.RootKeyOptions{MaxAttempts: 3, BaseDelay: time.Millisecond})
	f.failNext(2, 503)
	before := f.requests.Load()
	wrapped, err := rk.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err, "the third attempt succeeds")
	assert.EqualValues(t, 3, f.requests.Load()-before)
	_, err = rk.Unwrap(t.Context(), wrapped, nil)
	assert.NoError(t, err)
}

func TestNamespaceHeader(t *testing.T) {
	f := startFakeVault(t, "transit")
	createKey(t, f, "k", "")
	d, err := vaulttransit.New(t.Context(), f.srv.URL, "transit", "k", vaulttransit.Options{Token: appToken, Namespace: "team-a"})
	require.NoError(t, err)
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	assert.Equal(t, "team-a", *f.namespace.Load())
}

func TestNestedMount(t *testing.T) {
	f := startFakeVault(t, "secrets/transit")
	createKey(t, f, "k", "")
	d := newDriver(t, f, "k")
	assert.Equal(t, "secrets/transit/keys/k", d.Key())
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	assert.NoError(t, err)
}

func TestNewValidatesArguments(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_EMPTY_TOKEN", "")
	for name, tc := range map[string]struct {
		address, mount, key string
		opts                vaulttransit.Options
	}{
		"no token":          {"http://127.0.0.1:8200", "transit", "k", vaulttransit.Options{}},
		"empty token env":   {"http://127.0.0.1:8200", "transit", "k", vaulttransit.Options{TokenEnv: "PIIGUARD_TEST_EMPTY_TOKEN"}},
		"unset token env":   {"http://127.0.0.1:8200", "transit", "k", vaulttransit.Options{TokenEnv: "PIIGUARD_TEST_UNSET_TOKEN"}},
		"token with CRLF":   {"http://127.0.0.1:8200", "transit", "k", vaulttransit.Options{Token: "a\r\nX-Evil: 1"}},
		"address with user": {"http://user:" + rootToken + "@127.0.0.1:8200", "transit", "k", vaulttransit.Options{Token: appToken}},
		"address with path": {"http://127.0.0.1:8200/v1", "transit", "k", vaulttransit.Options{Token: appToken}},
		"address not http":  {"127.0.0.1:8200", "transit", "k", vaulttransit.Options{Token: appToken}},
		"key with slash":    {"http://127.0.0.1:8200", "transit", "a/b", vaulttransit.Options{Token: appToken}},
		"empty key":         {"http://127.0.0.1:8200", "transit", "", vaulttransit.Options{Token: appToken}},
		"mount with dotdot": {"http://127.0.0.1:8200", "a/../sys", "k", vaulttransit.Options{Token: appToken}},
	} {
		_, err := vaulttransit.New(t.Context(), tc.address, tc.mount, tc.key, tc.opts)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), rootToken, name)
		}
	}
}

func TestFormattingHidesToken(t *testing.T) {
	f := startFakeVault(t, "transit")
	d := newDriver(t, f, "k")
	assert.Equal(t, "vaulttransit.Driver("+f.srv.URL+", transit/keys/k)", d.String())
	a := admin(t, f)
	assert.NotContains(t, a.String(), rootToken)
}
