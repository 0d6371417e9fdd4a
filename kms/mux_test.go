package kms_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// TestURLMuxZeroValueOpensNothing: kms has no backend of its own, so the
// zero URLMux knows no scheme until one is registered.
func TestURLMuxZeroValueOpensNothing(t *testing.T) {
	var m kms.URLMux
	assert.Empty(t, m.Schemes())
	for _, uri := range []string{"insecure-memory://anything", "local:///var/lib/app/root.key?passphrase_env=X"} {
		_, err := m.OpenRootKey(context.Background(), uri)
		require.ErrorIs(t, err, kms.ErrUnknownScheme, uri)
	}
	m.Register(insecuremem.Scheme, insecuremem.Opener{})
	rk, err := m.OpenRootKey(context.Background(), "INSECURE-MEMORY://anything")
	require.NoError(t, err)
	defer rk.Close()
	assert.Equal(t, "insecure-memory://anything", rk.Name())
	roundTrip(t, rk, rk)
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

// nameParamsOpener is a test opener that keeps "region" in names.
type nameParamsOpener struct{ kms.RootKeyOpenerFunc }

func (nameParamsOpener) NameParams() []string { return []string{"region", "absent"} }

func TestURLMuxNameStripsSecrets(t *testing.T) {
	ctx := context.Background()
	var seen *url.URL
	open := kms.RootKeyOpenerFunc(func(_ context.Context, u *url.URL) (kms.Driver, error) {
		seen = u
		return insecuremem.NewDriver(), nil
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
	assert.Equal(t, piiguard.CodeUnknownScheme, piiguard.ErrorCode(err))
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

}

func TestURLMuxRegisterPanicsOnMisuse(t *testing.T) {
	var m kms.URLMux
	open := kms.RootKeyOpenerFunc(func(context.Context, *url.URL) (kms.Driver, error) {
		return insecuremem.NewDriver(), nil
	})
	m.Register("vault", open)
	assert.Equal(t, []string{"vault"}, m.Schemes())
	assert.Panics(t, func() { m.Register("vault", open) }, "duplicate")
	assert.Panics(t, func() { m.Register("", open) }, "empty scheme")
	assert.Panics(t, func() { m.Register("Vault2", open) }, "upper case")
	assert.Panics(t, func() { m.Register("9p", open) }, "leading digit")
	assert.Panics(t, func() { m.Register("a/b", open) }, "slash")
	assert.Panics(t, func() { m.Register("nil", nil) }, "nil opener")
	assert.NotPanics(t, func() { m.Register("aws-kms+v2.x", open) })
}
