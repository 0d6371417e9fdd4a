package localkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/rootcipher"
)

// Options configures Create and Open. The zero
// value is the right choice outside tests.
type Options struct {
	// KDF is the argon2id cost of a new key file. Zero fields take their
	// value from DefaultKDFParams(). Create refuses, with
	// kms.ErrInvalidArgument, a cost below OWASP's minimum for argon2id (2 passes
	// over 19 MiB, or 1 pass over 46 MiB) or above what readers accept (10
	// passes, 1 GiB, 64 threads). Open ignores it: the cost is
	// read from the file.
	KDF KDFParams

	// InsecureFastKDFForTests makes Create use the cheapest
	// valid argon2id cost (1 pass over 64 KiB, 1 thread) so that tests run
	// fast. A file made this way falls to a passphrase-guessing attack
	// thousands of times faster than a default one: never set it outside
	// tests. It cannot be combined with a non-zero KDF.
	InsecureFastKDFForTests bool
}

// kdfParams returns the cost for a new key file.
func (o Options) kdfParams() (KDFParams, error) {
	if o.InsecureFastKDFForTests {
		if o.KDF != (KDFParams{}) {
			return KDFParams{}, errors.New("InsecureFastKDFForTests cannot be combined with KDF")
		}
		return insecureFastKDFParams, nil
	}
	p := o.KDF
	if p.Time == 0 {
		p.Time = defaultKDFParams.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = defaultKDFParams.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = defaultKDFParams.Threads
	}
	if reason := p.validForFile(); reason != "" {
		return KDFParams{}, errors.New(reason)
	}
	if !(p.Time >= 2 && p.MemoryKiB >= 19<<10) && !(p.MemoryKiB >= 46<<10) {
		return KDFParams{}, errors.New("kdf cost below the minimum (2 passes over 19 MiB, or 1 pass over 46 MiB)")
	}
	return p, nil
}

// Driver is a root key kept in a local file under a passphrase (see the
// key file format in the package documentation): a kms.Driver, for
// kms.NewRootKey. It is the embedded default backend: no KMS, no network.
// The root key is held in memory from Open or Create until Close, which
// zeroes it.
//
// Wrap seals with AES-256-GCM under the root key and a random nonce; a
// ciphertext from another root key, or with changed bytes or associated
// data, fails to unwrap with kms.ErrInvalidCiphertext.
//
// A Driver is safe for concurrent use. Its String, GoString, Format,
// LogValue and MarshalJSON show the file and key ID, never key material.
type Driver struct {
	path string
	c    *rootcipher.Cipher
}

var _ kms.Driver = (*Driver)(nil)

// Create creates a root key file at path holding a new random
// root key sealed under passphrase, and returns a driver for it.
//
// It refuses a passphrase that fails CheckPassphrase (kms.ErrWeakPassphrase)
// and never overwrites: if path exists it fails with kms.ErrAlreadyExists, even when
// another process creates the file at the same moment. The file is written
// atomically with mode 0600: to a temporary file in the same directory,
// synced, then linked (or, on a file system without hard links, renamed)
// into place; the directory is then synced where the platform allows it.
//
// The passphrase is not kept; the caller may zero it after the call.
func Create(path string, passphrase []byte, opts Options) (*Driver, error) {
	if path == "" {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "localkey: create root key file: empty path")
	}
	if reason := weakness(passphrase); reason != "" {
		return nil, fmt.Errorf("localkey: create root key file %q: %w: %s", path, kms.ErrWeakPassphrase, reason)
	}
	params, err := opts.kdfParams()
	if err != nil {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "localkey: create root key file %q: %w", path, err)
	}
	// Fail before spending time on the KDF; the link below is what
	// guarantees no overwrite.
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("localkey: create root key file %q: %w", path, kms.ErrAlreadyExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fileErr("create", path, err)
	}

	kf := &keyFile{kdf: params, salt: make([]byte, kdfSaltSize), nonce: make([]byte, gcmNonceSize)}
	rootKey := make([]byte, rootcipher.KeySize)
	_, _ = rand.Read(kf.keyID[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(kf.salt)
	_, _ = rand.Read(kf.nonce)
	_, _ = rand.Read(rootKey)
	kf.seal(passphrase, rootKey)
	if err := writeNewFile(path, kf.marshal()); err != nil {
		clear(rootKey)
		return nil, err
	}
	return newDriver(path, kf.keyID, rootKey), nil
}

// Open opens the root key file at path with passphrase. It
// never writes.
//
// A missing file fails with kms.ErrNotFound; a malformed one (including KDF
// parameters beyond the readers' bounds) with kms.ErrCorrupt; one from a
// newer release with kms.ErrUnsupportedVersion; a passphrase that does not
// open it with kms.ErrWrongPassphrase. Errors name the file. The passphrase policy is not
// applied: any passphrase that opens the file is accepted. opts is accepted
// for symmetry with Create; none of its fields apply to opening.
func Open(path string, passphrase []byte, opts Options) (*Driver, error) {
	_ = opts
	if path == "" {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "localkey: open root key file: empty path")
	}
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, errKeyFile(path, err)
	}
	if len(passphrase) == 0 {
		return nil, errKeyFile(path, fmt.Errorf("empty passphrase: %w", kms.ErrWrongPassphrase))
	}
	key, err := kf.open(passphrase)
	if err != nil {
		return nil, errKeyFile(path, err)
	}
	return newDriver(path, kf.keyID, key), nil
}

func newDriver(path string, keyID [rootcipher.KeyIDSize]byte, key []byte) *Driver {
	what := fmt.Sprintf("localkey: root key %s (file %q)", hex.EncodeToString(keyID[:]), path)
	return &Driver{path: path, c: rootcipher.New(keyID, key, what)}
}

// Path returns the key file's path.
func (d *Driver) Path() string { return d.path }

// KeyID returns the root key's ID: 32 hex digits, public, written in the
// key file and (its first 4 bytes) in every ciphertext.
func (d *Driver) KeyID() string {
	id := d.c.KeyID()
	return hex.EncodeToString(id[:])
}

// Wrap encrypts plaintext under the root key, bound to associatedData.
func (d *Driver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	return d.c.Wrap(ctx, plaintext, associatedData)
}

// Unwrap decrypts a ciphertext made by Wrap with the same root key and
// associated data; anything else fails with kms.ErrInvalidCiphertext.
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	return d.c.Unwrap(ctx, ciphertext, associatedData)
}

// Close zeroes the root key. It is idempotent and always returns nil; Wrap
// and Unwrap fail with kms.ErrClosed afterwards.
func (d *Driver) Close() error {
	d.c.Close()
	return nil
}

// String describes the driver without key material.
func (d *Driver) String() string {
	return "localkey.Driver(" + strconv.Quote(d.path) + ", key_id=" + d.KeyID() + ")"
}

// GoString is String: the key never appears in %#v.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb, so that no verb (%x, %d, %+v, …)
// reaches the key.
func (d *Driver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *Driver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// readKeyFile reads at most maxKeyFileSize+1 bytes of a regular file.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr("open", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fileErr("open", path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, errKeyFile(path, errCorrupt("not a regular file"))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fileErr("read", path, err)
	}
	return data, nil
}

// writeNewFile writes data to a new file at path (mode 0600), atomically
// and without ever replacing an existing file.
func writeNewFile(path string, data []byte) error {
	if err := fsutil.WriteFileAtomic(path, data, 0o600, true); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("localkey: create root key file %q: %w", path, kms.ErrAlreadyExists)
		}
		return fileErr("create", path, err)
	}
	return nil
}

// fileErr classifies a file system error. The message keeps the system's
// reason (for example "no such file or directory"), which holds no secret,
// unless it only repeats the sentinel's words ("permission denied"); the
// error wraps both.
func fileErr(op, path string, err error) error {
	sentinel := kms.ErrBackend
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sentinel = kms.ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		sentinel = kms.ErrPermissionDenied
	case errors.Is(err, fs.ErrExist):
		sentinel = kms.ErrAlreadyExists
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errtext.Says(err, sentinel) {
		return errtext.Tagged(err, "localkey: %s root key file %q: %w", op, path, sentinel)
	}
	return fmt.Errorf("localkey: %s root key file %q: %w (%w)", op, path, sentinel, err)
}
