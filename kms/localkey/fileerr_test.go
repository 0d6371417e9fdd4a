package localkey

import (
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/kms"
)

func TestFileErrSaysTheReasonOnce(t *testing.T) {
	const path = "/srv/keys/root.key"
	err := fileErr("read", path, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES})
	assert.Equal(t, `localkey: read root key file "/srv/keys/root.key": permission denied`, err.Error())
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.ErrorIs(t, err, fs.ErrPermission, "the system's error stays wrapped")

	err = fileErr("read", path, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT})
	assert.Equal(t, `localkey: read root key file "/srv/keys/root.key": not found (no such file or directory)`, err.Error(),
		"a reason that says more than the sentinel is kept")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
