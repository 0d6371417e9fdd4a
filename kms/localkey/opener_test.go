package localkey_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

// fastLocalMux returns a URLMux that opens local URIs, and "local-fast"
// URIs: local key files with the insecure fast KDF, so tests do not pay
// for argon2id.
func fastLocalMux() *kms.URLMux {
	m := new(kms.URLMux)
	m.Register(localkey.Scheme, &localkey.Opener{})
	m.Register("local-fast", &localkey.Opener{Options: fastKDF})
	return m
}

func roundTrip(t *testing.T, wrapper, unwrapper *kms.RootKey) {
	t.Helper()
	ctx := context.Background()
	ct, err := wrapper.Wrap(ctx, []byte("data key"), []byte("ad"))
	require.NoError(t, err)
	pt, err := unwrapper.Unwrap(ctx, ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(pt))
}

// TestOpenRootKeyCreatesThenOpens: the same URI, with create=true, makes
// the key file once and opens it afterwards.
func TestOpenRootKeyCreatesThenOpens(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_PASSPHRASE", testPassphrase)
	path := filepath.Join(t.TempDir(), "root.key")
	uri := "local://" + filepath.ToSlash(path) + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true"
	if filepath.VolumeName(path) != "" {
		uri = "local:///" + filepath.ToSlash(path) + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true"
	}
	first, err := localkey.OpenRootKey(context.Background(), uri) // creates, default KDF cost
	require.NoError(t, err)
	defer first.Close()
	assert.NotContains(t, first.Name(), "?", "the name holds no query")
	assert.Contains(t, first.Name(), filepath.ToSlash(path))
	assert.FileExists(t, path)

	var m kms.URLMux
	m.Register(localkey.Scheme, &localkey.Opener{})
	second, err := m.OpenRootKey(context.Background(), uri) // exists: opens
	require.NoError(t, err)
	defer second.Close()
	assert.Equal(t, first.Name(), second.Name())
	roundTrip(t, first, second)
}

func TestOpenerURIs(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PIIGUARD_TEST_PASSPHRASE", testPassphrase)
	t.Setenv("PIIGUARD_TEST_EMPTY", "")
	m := fastLocalMux()
	dir := filepath.ToSlash(t.TempDir())
	if dir[0] != '/' {
		dir = "/" + dir // Windows: local:///C:/...
	}
	path := dir + "/root.key"

	// Missing without create: not found, and nothing is created.
	_, err := m.OpenRootKey(ctx, "local-fast://"+path+"?passphrase_env=PIIGUARD_TEST_PASSPHRASE")
	require.ErrorIs(t, err, kms.ErrNotFound)
	_, err = m.OpenRootKey(ctx, "local-fast://"+path+"?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=false")
	require.ErrorIs(t, err, kms.ErrNotFound)

	created, err := m.OpenRootKey(ctx, "local-fast://"+path+"?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=1")
	require.NoError(t, err)
	defer created.Close()
	assert.Equal(t, "local-fast://"+path, created.Name())
	opened, err := m.OpenRootKey(ctx, "local-fast://"+path+"?passphrase_env=PIIGUARD_TEST_PASSPHRASE")
	require.NoError(t, err)
	defer opened.Close()
	roundTrip(t, created, opened)

	t.Setenv("PIIGUARD_OTHER_PASSPHRASE", "another passphrase entirely")
	_, err = m.OpenRootKey(ctx, "local-fast://"+path+"?passphrase_env=PIIGUARD_OTHER_PASSPHRASE&create=true")
	require.ErrorIs(t, err, kms.ErrWrongPassphrase, "create=true opens an existing file, it does not replace it")

	for name, uri := range map[string]string{
		"passphrase in the URI":   "local-fast://" + path + "?passphrase=S3CRET-IN-URI",
		"passphrase and env":      "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&passphrase=S3CRET-IN-URI",
		"no passphrase_env":       "local-fast://" + path,
		"unset variable":          "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_UNSET_VARIABLE",
		"empty variable":          "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_EMPTY",
		"unknown parameter":       "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&S3CRET-IN-URI",
		"repeated parameter":      "local-fast://" + path + "?passphrase_env=A&passphrase_env=PIIGUARD_TEST_PASSPHRASE",
		"bad create":              "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=yes-please",
		"host":                    "local-fast://example.com" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE",
		"user information":        "local-fast://user:S3CRET-IN-URI@" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE",
		"relative path (opaque)":  "local-fast:root.key?passphrase_env=PIIGUARD_TEST_PASSPHRASE",
		"fragment":                "local-fast://" + path + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE#S3CRET-IN-URI",
		"malformed query":         "local-fast://" + path + "?passphrase_env=%zz",
		"no path":                 "local-fast://?passphrase_env=PIIGUARD_TEST_PASSPHRASE",
		"builtin, passphrase set": "local://" + path + "?passphrase=S3CRET-IN-URI",
	} {
		_, err := m.OpenRootKey(ctx, uri)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), "S3CRET", "%s: the error must not quote the URI's secrets", name)
			assert.Equal(t, piiguard.CodeInvalidArgument, piiguard.ErrorCode(err), name)
		}
	}
}

func TestOpenerHonoursCancelledContext(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_PASSPHRASE", testPassphrase)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fastLocalMux().OpenRootKey(ctx, "local-fast:///nonexistent/root.key?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true")
	require.ErrorIs(t, err, context.Canceled)
}

// TestOpenerErrorsSayKMSOnce: the mux names the root key, the opener says
// what is wrong with its URI; "kms:" is said once.
func TestOpenerErrorsSayKMSOnce(t *testing.T) {
	ctx := context.Background()
	m := fastLocalMux()
	for _, uri := range []string{"local://", "local:///nonexistent/root.key"} {
		_, err := m.OpenRootKey(ctx, uri)
		require.ErrorIs(t, err, kms.ErrInvalidArgument, uri)
		assert.Equal(t, 1, strings.Count(err.Error(), "kms:"), "the prefix is said once: %v", err)
	}
	_, err := localkey.OpenRootKey(ctx, "insecure-memory://x")
	require.ErrorIs(t, err, kms.ErrUnknownScheme, "OpenRootKey knows local: alone")
}
