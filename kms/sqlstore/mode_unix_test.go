//go:build unix

package sqlstore_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// withUmask runs the test under umask mask (process-wide, so these tests
// are not parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func TestOpenSQLiteCreatesOwnerOnlyFiles(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openSQLite(t, path)
	require.NoError(t, s.PutKeyset(t.Context(), &kms.KeysetRecord{Name: "k", Purpose: kms.PurposeAEAD}))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		require.NoError(t, err, "WAL mode keeps %s while the store is open", filepath.Base(p))
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), filepath.Base(p))
	}
}

func TestOpenSQLiteKeepsAnExistingFilesMode(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openSQLite(t, path)
	require.NoError(t, s.Close())
	require.NoError(t, os.Chmod(path, 0o640))
	openSQLite(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
}
