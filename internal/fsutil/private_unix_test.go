//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreatePrivateIsOwnerOnlyAndLeavesExistingFilesAlone(t *testing.T) {
	old := syscall.Umask(0o022) // process-wide: not parallel
	defer syscall.Umask(old)
	p := filepath.Join(t.TempDir(), "keys.db")
	created, err := CreatePrivate(p)
	require.NoError(t, err)
	assert.True(t, created)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	assert.Zero(t, fi.Size())

	require.NoError(t, os.WriteFile(p, []byte("data"), 0o600))
	require.NoError(t, os.Chmod(p, 0o644))
	created, err = CreatePrivate(p)
	require.NoError(t, err)
	assert.False(t, created)
	fi, err = os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm(), "an existing file keeps its mode")
	b, _ := os.ReadFile(p)
	assert.Equal(t, "data", string(b), "and its content")

	_, err = CreatePrivate(filepath.Join(t.TempDir(), "missing", "keys.db"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
