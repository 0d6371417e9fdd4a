package localkey_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

// Messages say each thing once.

var ctx = context.Background()

func TestRootKeyErrorsDoNotRepeatTheSentinel(t *testing.T) {
	t.Setenv("PIIGUARD_TEST_EMPTY", "")
	path := filepath.ToSlash(filepath.Join(t.TempDir(), "root.key"))
	if path[0] != '/' {
		path = "/" + path
	}
	var m kms.URLMux
	m.Register(localkey.Scheme, &localkey.Opener{})
	for uri, want := range map[string]string{
		"":                    "kms: open root key: URI has no scheme",
		"%zz://x":             "kms: open root key: malformed URI",
		"local://" + path:     "needs passphrase_env",
		"local://host" + path: "must name an absolute path",
		"local://" + path + "?passphrase_env=PIIGUARD_TEST_EMPTY": `names environment variable "PIIGUARD_TEST_EMPTY", which is unset or empty`,
	} {
		_, err := m.OpenRootKey(ctx, uri)
		require.ErrorIs(t, err, kms.ErrInvalidArgument, uri)
		assert.Equal(t, piiguard.CodeInvalidArgument, piiguard.ErrorCode(err), uri)
		assert.Contains(t, err.Error(), want, uri)
		assert.False(t, strings.HasSuffix(err.Error(), ": invalid argument"), "%q: %v", uri, err)
	}

	_, err := localkey.Create(filepath.Join(t.TempDir(), "root.key"), []byte("short"), fastKDF)
	require.ErrorIs(t, err, kms.ErrWeakPassphrase)
	assert.Contains(t, err.Error(), ": weak passphrase: fewer than ")
	assert.Equal(t, 1, strings.Count(err.Error(), "passphrase"), "%v", err)
	_, err = localkey.Create("", []byte(testPassphrase), fastKDF)
	assert.Equal(t, "localkey: create root key file: empty path", err.Error())
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
}

func TestUnreadableRootKeyFileSaysPermissionDeniedOnce(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file; fileErr's own test covers the message")
	}
	path := filepath.Join(t.TempDir(), "root.key")
	d, err := localkey.Create(path, []byte(testPassphrase), fastKDF)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, os.Chmod(path, 0))
	_, err = localkey.Open(path, []byte(testPassphrase), localkey.Options{})
	if errors.Is(err, kms.ErrPermissionDenied) {
		assert.Equal(t, 1, strings.Count(err.Error(), "permission denied"), "%v", err)
	} else {
		t.Skipf("the platform let the file be read: %v", err)
	}
}
