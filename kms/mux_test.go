package kms_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// fastLocalMux returns a URLMux that also opens "local-fast" URIs: local
// key files with the insecure fast KDF, so tests do not pay for argon2id.
func fastLocalMux() *kms.URLMux {
	m := new(kms.URLMux)
	m.Register("local-fast", &kms.LocalOpener{Options: fastKDF})
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

func TestURLMuxZeroValueOpensInsecureMemory(t *testing.T) {
	var m kms.URLMux
	rk, err := m.OpenRootKey(context.Background(), "insecure-memory://anything")
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "insecure-memory://anything", rk.Name())
	roundTrip(t, rk, rk)
	assert.Equal(t, []string{"insecure-memory", "local"}, m.Schemes())
}

func TestURLMuxOpensBuiltinLocalWithCreate(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_PASSPHRASE", testPassphrase)
	path := filepath.Join(t.TempDir(), "root.key")
	uri := "local://" + filepath.ToSlash(path) + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true"
	if filepath.VolumeName(path) != "" {
		uri = "local:///" + filepath.ToSlash(path) + "?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true"
	}
	var m kms.URLMux
	first, err := m.OpenRootKey(context.Background(), uri) // creates, default KDF cost
	require.NoError(t, err)
	defer first.Close()
	assert.NotContains(t, first.Name(), "?", "the name holds no query")
	assert.Contains(t, first.Name(), filepath.ToSlash(path))
	assert.FileExists(t, path)

	second, err := kms.OpenRootKey(context.Background(), uri) // exists: opens
	require.NoError(t, err)
	defer second.Close()
	assert.Equal(t, first.Name(), second.Name())
	roundTrip(t, first, second)
}

func TestURLMuxLocalURIs(t *testing.T) {
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
			assert.Equal(t, kms.CodeInvalidArgument, kms.ErrorCode(err), name)
		}
	}
}

func TestURLMuxLocalHonoursCancelledContext(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_PASSPHRASE", testPassphrase)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fastLocalMux().OpenRootKey(ctx, "local-fast:///nonexistent/root.key?passphrase_env=PIIGUARD_TEST_PASSPHRASE&create=true")
	require.ErrorIs(t, err, context.Canceled)
}

// nameParamsOpener is a test opener that keeps "region" in names.
type nameParamsOpener struct{ kms.RootKeyOpenerFunc }

func (nameParamsOpener) NameParams() []string { return []string{"region", "absent"} }

func TestURLMuxNameStripsSecrets(t *testing.T) {
	ctx := context.Background()
	var seen *url.URL
	open := kms.RootKeyOpenerFunc(func(_ context.Context, u *url.URL) (kms.Driver, error) {
		seen = u
		return kms.NewInsecureMemoryDriver(), nil
	})
	var m kms.URLMux
	m.Register("test", open)
	m.Register("test-named", nameParamsOpener{open})

	const secretURI = "test://user:S3CRET@kms.example.com/keys/root%20key?token=S3CRET&region=eu-west-1#S3CRET"
	rk, err := m.OpenRootKey(ctx, secretURI)
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "test://kms.example.com/keys/root%20key", rk.Name())
	require.NotNil(t, seen)
	assert.Equal(t, "S3CRET", seen.Query().Get("token"), "the opener sees the whole URI")

	rk2, err := m.OpenRootKey(ctx, "test-named://user:S3CRET@kms.example.com/keys/root?token=S3CRET&region=eu-west-1")
	require.NoError(t, err)
	defer rk2.Close()
	assert.Equal(t, "test-named://kms.example.com/keys/root?region=eu-west-1", rk2.Name())

	rk3, err := m.OpenRootKey(ctx, "test:user:S3CRET@opaque-key")
	require.NoError(t, err)
	defer rk3.Close()
	assert.Equal(t, "test:opaque-key", rk3.Name())
}

func TestURLMuxErrors(t *testing.T) {
	ctx := context.Background()
	var m kms.URLMux
	m.Register("failing", kms.RootKeyOpenerFunc(func(context.Context, *url.URL) (kms.Driver, error) {
		return nil, errors.New("backend exploded")
	}))

	_, err := m.OpenRootKey(ctx, "awskms://alias/S3CRET?x=1")
	require.ErrorIs(t, err, kms.ErrUnknownScheme)
	assert.Equal(t, kms.CodeUnknownScheme, kms.ErrorCode(err))
	assert.Contains(t, err.Error(), `"awskms"`, "the error names the scheme")
	assert.NotContains(t, err.Error(), "S3CRET")

	for _, uri := range []string{"", "/abs/path/root.key", "::", "%zz://x", "local://a b\x7f"} {
		_, err := m.OpenRootKey(ctx, uri)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, "%q", uri) {
			assert.NotContains(t, err.Error(), "S3CRET")
		}
	}

	_, err = m.OpenRootKey(ctx, "failing://key")
	require.ErrorIs(t, err, kms.ErrBackend, "an unclassified opener error becomes ErrBackend")
	assert.Contains(t, err.Error(), "failing://key")
	assert.Contains(t, err.Error(), "backend exploded")
	assert.Equal(t, 1, strings.Count(err.Error(), "kms:"), "the prefix is said once: %v", err)

	// The built-in opener's own errors start with "kms: " too.
	for _, uri := range []string{"local://", "local:///nonexistent/root.key"} {
		_, err := m.OpenRootKey(ctx, uri)
		require.ErrorIs(t, err, kms.ErrInvalidArgument, uri)
		assert.Equal(t, 1, strings.Count(err.Error(), "kms:"), "the prefix is said once: %v", err)
	}
}

func TestURLMuxRegisterPanicsOnMisuse(t *testing.T) {
	var m kms.URLMux
	open := kms.RootKeyOpenerFunc(func(context.Context, *url.URL) (kms.Driver, error) {
		return kms.NewInsecureMemoryDriver(), nil
	})
	m.Register("vault", open)
	assert.Equal(t, []string{"insecure-memory", "local", "vault"}, m.Schemes())
	assert.Panics(t, func() { m.Register("vault", open) }, "duplicate")
	assert.Panics(t, func() { m.Register("local", open) }, "built-in")
	assert.Panics(t, func() { m.Register("insecure-memory", open) }, "built-in")
	assert.Panics(t, func() { m.Register("", open) }, "empty scheme")
	assert.Panics(t, func() { m.Register("Vault2", open) }, "upper case")
	assert.Panics(t, func() { m.Register("9p", open) }, "leading digit")
	assert.Panics(t, func() { m.Register("a/b", open) }, "slash")
	assert.Panics(t, func() { m.Register("nil", nil) }, "nil opener")
	assert.NotPanics(t, func() { m.Register("aws-kms+v2.x", open) })
}

func TestDefaultMuxIsOneValue(t *testing.T) {
	assert.Same(t, kms.DefaultMux(), kms.DefaultMux())
	rk, err := kms.OpenRootKey(context.Background(), "INSECURE-MEMORY://demo")
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "insecure-memory://demo", rk.Name())
}
