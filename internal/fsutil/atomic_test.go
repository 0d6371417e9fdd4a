package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileAtomicReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	require.NoError(t, WriteFileAtomic(p, []byte("one"), 0o600, false))
	require.NoError(t, WriteFileAtomic(p, []byte("two"), 0o600, false))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	assertNoTemp(t, dir)
}

func TestWriteFileAtomicExclusiveNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "root.key")
	require.NoError(t, WriteFileAtomic(p, []byte("first"), 0o600, true))
	err := WriteFileAtomic(p, []byte("second"), 0o600, true)
	require.True(t, errors.Is(err, os.ErrExist), "got %v", err)
	b, _ := os.ReadFile(p)
	assert.Equal(t, "first", string(b))
	assertNoTemp(t, dir)
}

func TestWriteFileAtomicLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600, false)
	require.Error(t, err)
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
}
