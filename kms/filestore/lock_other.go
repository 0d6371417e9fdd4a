//go:build !unix

package filestore

import (
	"errors"
	"io/fs"
	"os"
)

// tryLock takes the lock by creating path exclusively, without waiting.
// busy reports that the file exists. Unlike flock on Unix, a process that
// crashes while holding it leaves the file behind: remove DIR/.lock.held by hand
// once no process uses the store.
func tryLock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path+".held", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	f.Close()
	return func() { os.Remove(path + ".held") }, false, nil
}
