package pkcs11

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// PIN is a token's user PIN. It never shows itself: String, GoString,
// Format (every verb), LogValue and MarshalJSON all give "PIN(redacted)",
// so a Config or Opener holding one can be printed or logged. Reveal is the
// one way to read it.
type PIN struct {
	s string
}

// NewPIN returns a PIN holding s.
func NewPIN(s string) PIN { return PIN{s: s} }

// Reveal returns the PIN. It is the only way to read it; grep for it.
func (p PIN) Reveal() string { return p.s }

// IsZero reports whether the PIN is empty.
func (p PIN) IsZero() bool { return p.s == "" }

const redactedPIN = "PIN(redacted)"

// String returns "PIN(redacted)".
func (p PIN) String() string { return redactedPIN }

// GoString returns "PIN(redacted)".
func (p PIN) GoString() string { return redactedPIN }

// Format writes "PIN(redacted)" for every verb.
func (p PIN) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, redactedPIN) }

// LogValue logs "PIN(redacted)".
func (p PIN) LogValue() slog.Value { return slog.StringValue(redactedPIN) }

// MarshalJSON encodes "PIN(redacted)".
func (p PIN) MarshalJSON() ([]byte, error) { return json.Marshal(redactedPIN) }

// maxPINFile bounds the size of a PIN file.
const maxPINFile = 1024

// readPINSource reads the PIN a pin-source names: "env:NAME" (an
// environment variable) or "file:/absolute/path" (a file whose content,
// less one trailing newline, is the PIN). Errors name the variable or the
// file, never the PIN.
func readPINSource(src string) (PIN, error) {
	kind, arg, ok := strings.Cut(src, ":")
	if !ok || arg == "" {
		return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: pin-source must be env:NAME or file:/absolute/path")
	}
	switch kind {
	case "env":
		v, ok := os.LookupEnv(arg)
		if !ok || v == "" {
			return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: pin-source names environment variable %.64q, which is unset or empty", arg)
		}
		return NewPIN(v), nil
	case "file":
		path := strings.TrimPrefix(arg, "//") // file:///abs and file:/abs
		if !filepath.IsAbs(path) {
			return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: pin-source file must be an absolute path")
		}
		f, err := os.Open(path)
		if err != nil {
			return PIN{}, pinFileErr(path, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxPINFile+1))
		if err != nil {
			return PIN{}, pinFileErr(path, err)
		}
		defer clear(b)
		if len(b) > maxPINFile {
			return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: PIN file %q is larger than %d bytes", path, maxPINFile)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: PIN file %q is empty", path)
		}
		return NewPIN(s), nil
	}
	return PIN{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: pin-source must be env:NAME or file:/absolute/path")
}

// pinFileErr classifies a failure to read a PIN file; the error wraps the
// system's error too.
func pinFileErr(path string, err error) error {
	sentinel := kms.ErrInvalidArgument
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sentinel = kms.ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		sentinel = kms.ErrPermissionDenied
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errtext.Says(err, sentinel) {
		// "permission denied", once.
		return errtext.Tagged(err, "pkcs11: read PIN file %q: %w", path, sentinel)
	}
	return fmt.Errorf("pkcs11: read PIN file %q: %w (%w)", path, sentinel, err)
}
