package fsutil

import (
	"errors"
	"io/fs"
	"os"
)

// CreatePrivate creates an empty file at path with permission 0600, which
// no umask widens, so that a database that then opens path (SQLite gives
// its -wal and -shm files the mode of the database file) is readable by
// its owner only. Whatever exists at path already, a file or a link, is
// left as it is, mode included. It reports whether it created the file.
func CreatePrivate(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.Close()
}
