package pkcs11

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/kms"
)

func TestPINFileErrorsSayTheReasonOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pin")
	err := pinFileErr(path, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES})
	assert.Equal(t, `pkcs11: read PIN file "`+path+`": permission denied`, err.Error())
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.ErrorIs(t, err, fs.ErrPermission)

	_, err = readPINSource("file:" + path)
	assert.Equal(t, `pkcs11: read PIN file "`+path+`": not found (no such file or directory)`, err.Error())
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestPINSourceErrorsDoNotEndInTheSentinel(t *testing.T) {
	t.Setenv("PIIGUARD_UNIT_EMPTY_PIN", "")
	for _, src := range []string{"nothing", "env:PIIGUARD_UNIT_EMPTY_PIN", "file:relative/pin", "http://x/pin"} {
		_, err := readPINSource(src)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, src) {
			assert.NotContains(t, err.Error(), "invalid argument", "%s: the message says what is wrong", src)
		}
	}
}
