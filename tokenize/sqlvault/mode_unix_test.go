//go:build unix

package sqlvault

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/tokenize"
)

// The umask is process-wide: these tests are not parallel.
func TestOpenSQLiteCreatesOwnerOnlyFiles(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "tokens.db")
	st, err := OpenSQLite(path, Options{})
	require.NoError(t, err)
	defer st.Close()
	v, err := tokenize.NewVault(newKeyring(t), st, allowAll(tokenize.VaultOptions{}))
	require.NoError(t, err)
	_, err = v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		require.NoError(t, err, "WAL mode keeps %s while the store is open", filepath.Base(p))
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), filepath.Base(p))
	}
}

func TestOpenSQLiteKeepsAnExistingFilesMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "tokens.db")
	st, err := OpenSQLite(path, Options{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.NoError(t, os.Chmod(path, 0o640))
	st, err = OpenSQLite(path, Options{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
}
