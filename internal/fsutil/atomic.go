// Package fsutil writes files so that a crash or an error never leaves a
// partial file behind.
package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path with permission perm, atomically: the
// data goes to a temporary file in the same directory, which is synced and
// then renamed over path, and the directory is synced. Readers see the old
// content or the new, never a mix; on error, path is untouched and the
// temporary file is removed.
//
// If exclusive is true and path exists, nothing is written and the error
// wraps os.ErrExist.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, exclusive bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if exclusive {
		// A hard link fails if the target exists, which makes the
		// existence check and the publication one atomic step.
		if err = os.Link(name, path); err != nil {
			if os.IsExist(err) {
				return fmt.Errorf("%s: %w", path, os.ErrExist)
			}
			return err
		}
		os.Remove(name)
	} else if err = os.Rename(name, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that a rename or create in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
