package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/fsutil"
)

// LocalOptions configures CreateLocalKeyFile and OpenLocalKeyFile. The zero
// value is the right choice outside tests.
type LocalOptions struct {
	// KDF is the argon2id cost of a new key file. Zero fields take their
	// value from DefaultKDFParams(). CreateLocalKeyFile refuses, with
	// ErrInvalidArgument, a cost below OWASP's minimum for argon2id (2 passes
	// over 19 MiB, or 1 pass over 46 MiB) or above what readers accept (10
	// passes, 1 GiB, 64 threads). OpenLocalKeyFile ignores it: the cost is
	// read from the file.
	KDF KDFParams

	// InsecureFastKDFForTests makes CreateLocalKeyFile use the cheapest
	// valid argon2id cost (1 pass over 64 KiB, 1 thread) so that tests run
	// fast. A file made this way falls to a passphrase-guessing attack
	// thousands of times faster than a default one: never set it outside
	// tests. It cannot be combined with a non-zero KDF.
	InsecureFastKDFForTests bool
}

// kdfParams returns the cost for a new key file.
func (o LocalOptions) kdfParams() (KDFParams, error) {
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

// LocalDriver is a root key kept in a local file under a passphrase (see
// the key file format in the package documentation). It is the embedded
// default backend: no KMS, no network. The root key is held in memory from
// OpenLocalKeyFile or CreateLocalKeyFile until Close, which zeroes it.
//
// Wrap seals with AES-256-GCM under the root key and a random nonce; a
// ciphertext from another root key, or with changed bytes or associated
// data, fails to unwrap with ErrInvalidCiphertext.
//
// A LocalDriver is safe for concurrent use. Its String, GoString, Format,
// LogValue and MarshalJSON show the file and key ID, never key material.
type LocalDriver struct {
	path string
	c    *rootCipher
}

var _ Driver = (*LocalDriver)(nil)

// CreateLocalKeyFile creates a root key file at path holding a new random
// root key sealed under passphrase, and returns a driver for it.
//
// It refuses a passphrase that fails CheckPassphrase (ErrWeakPassphrase) and
// never overwrites: if path exists it fails with ErrAlreadyExists, even when
// another process creates the file at the same moment. The file is written
// atomically with mode 0600: to a temporary file in the same directory,
// synced, then linked (or, on a file system without hard links, renamed)
// into place; the directory is then synced where the platform allows it.
//
// The passphrase is not kept; the caller may zero it after the call.
func CreateLocalKeyFile(path string, passphrase []byte, opts LocalOptions) (*LocalDriver, error) {
	if path == "" {
		return nil, errtext.Tagged(ErrInvalidArgument, "kms: create root key file: empty path")
	}
	if reason := weakness(passphrase); reason != "" {
		return nil, fmt.Errorf("kms: create root key file %q: %w: %s", path, ErrWeakPassphrase, reason)
	}
	params, err := opts.kdfParams()
	if err != nil {
		return nil, errtext.Tagged(ErrInvalidArgument, "kms: create root key file %q: %w", path, err)
	}
	// Fail before spending time on the KDF; the link below is what
	// guarantees no overwrite.
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("kms: create root key file %q: %w", path, ErrAlreadyExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fileErr("create", path, err)
	}

	kf := &keyFile{kdf: params, salt: make([]byte, kdfSaltSize), nonce: make([]byte, gcmNonceSize)}
	rootKey := make([]byte, rootKeySize)
	_, _ = rand.Read(kf.keyID[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(kf.salt)
	_, _ = rand.Read(kf.nonce)
	_, _ = rand.Read(rootKey)
	kf.seal(passphrase, rootKey)
	if err := writeNewFile(path, kf.marshal()); err != nil {
		clear(rootKey)
		return nil, err
	}
	return newLocalDriver(path, kf.keyID, rootKey), nil
}

// OpenLocalKeyFile opens the root key file at path with passphrase. It
// never writes.
//
// A missing file fails with ErrNotFound; a malformed one (including KDF
// parameters beyond the readers' bounds) with ErrCorrupt; one from a newer
// release with ErrUnsupportedVersion; a passphrase that does not open it
// with ErrWrongPassphrase. Errors name the file. The passphrase policy is not
// applied: any passphrase that opens the file is accepted. opts is accepted
// for symmetry with CreateLocalKeyFile; none of its fields apply to opening.
func OpenLocalKeyFile(path string, passphrase []byte, opts LocalOptions) (*LocalDriver, error) {
	_ = opts
	if path == "" {
		return nil, errtext.Tagged(ErrInvalidArgument, "kms: open root key file: empty path")
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
		return nil, errKeyFile(path, fmt.Errorf("empty passphrase: %w", ErrWrongPassphrase))
	}
	key, err := kf.open(passphrase)
	if err != nil {
		return nil, errKeyFile(path, err)
	}
	return newLocalDriver(path, kf.keyID, key), nil
}

func newLocalDriver(path string, keyID [keyIDSize]byte, key []byte) *LocalDriver {
	what := fmt.Sprintf("local root key %s (file %q)", hex.EncodeToString(keyID[:]), path)
	return &LocalDriver{path: path, c: newRootCipher(keyID, key, what)}
}

// Path returns the key file's path.
func (d *LocalDriver) Path() string { return d.path }

// KeyID returns the root key's ID: 32 hex digits, public, written in the
// key file and (its first 4 bytes) in every ciphertext.
func (d *LocalDriver) KeyID() string { return hex.EncodeToString(d.c.keyID[:]) }

// Wrap encrypts plaintext under the root key, bound to associatedData.
func (d *LocalDriver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	return d.c.wrap(ctx, plaintext, associatedData)
}

// Unwrap decrypts a ciphertext made by Wrap with the same root key and
// associated data; anything else fails with ErrInvalidCiphertext.
func (d *LocalDriver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	return d.c.unwrap(ctx, ciphertext, associatedData)
}

// Close zeroes the root key. It is idempotent and always returns nil; Wrap
// and Unwrap fail with ErrClosed afterwards.
func (d *LocalDriver) Close() error {
	d.c.close()
	return nil
}

// String describes the driver without key material.
func (d *LocalDriver) String() string {
	return "kms.LocalDriver(" + strconv.Quote(d.path) + ", key_id=" + d.KeyID() + ")"
}

// GoString is String: the key never appears in %#v.
func (d *LocalDriver) GoString() string { return d.String() }

// Format writes String for every verb, so that no verb (%x, %d, %+v, …)
// reaches the key.
func (d *LocalDriver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *LocalDriver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *LocalDriver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// rootCipher is a root key held in memory, shared by LocalDriver and
// InsecureMemoryDriver. It implements the wrap format of the package
// documentation.
type rootCipher struct {
	keyID [keyIDSize]byte
	what  string // names the key in errors

	mu  sync.RWMutex
	key []byte // nil once closed
}

const (
	wrapFormatV1   = 0x01
	wrapHeaderSize = 1 + 4
	wrapOverhead   = wrapHeaderSize + gcmNonceSize + gcmTagSize
)

func newRootCipher(keyID [keyIDSize]byte, key []byte, what string) *rootCipher {
	return &rootCipher{keyID: keyID, key: key, what: what}
}

func (c *rootCipher) err(op string, err error) error {
	return fmt.Errorf("kms: %s: %s: %w", c.what, op, err)
}

func (c *rootCipher) header() []byte {
	return []byte{wrapFormatV1, c.keyID[0], c.keyID[1], c.keyID[2], c.keyID[3]}
}

// aead returns AES-256-GCM with random nonces under the key; c.mu must be
// held. A new cipher per call keeps the key schedule out of long-lived
// memory: only c.key outlives the call, and Close zeroes it.
func (c *rootCipher) aead() cipher.AEAD {
	block, err := aes.NewCipher(c.key)
	if err != nil {
		panic("kms: " + err.Error()) // cannot happen: 32-byte key
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("kms: " + err.Error()) // cannot happen: AES block
	}
	return aead
}

func (c *rootCipher) wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.err("wrap", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.key == nil {
		return nil, c.err("wrap", ErrClosed)
	}
	hdr := c.header()
	out := make([]byte, 0, wrapOverhead+len(plaintext))
	out = append(out, hdr...)
	return c.aead().Seal(out, nil, plaintext, append(hdr, associatedData...)), nil
}

func (c *rootCipher) unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.err("unwrap", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.key == nil {
		return nil, c.err("unwrap", ErrClosed)
	}
	switch {
	case len(ciphertext) < wrapOverhead:
		return nil, c.err("unwrap", fmt.Errorf("too short: %w", ErrInvalidCiphertext))
	case ciphertext[0] != wrapFormatV1:
		return nil, c.err("unwrap", fmt.Errorf("unknown format byte: %w", ErrInvalidCiphertext))
	case subtle.ConstantTimeCompare(ciphertext[1:wrapHeaderSize], c.keyID[:4]) != 1:
		return nil, c.err("unwrap", fmt.Errorf("made under another root key: %w", ErrInvalidCiphertext))
	}
	hdr := ciphertext[:wrapHeaderSize:wrapHeaderSize]
	pt, err := c.aead().Open(nil, nil, ciphertext[wrapHeaderSize:], append(hdr, associatedData...))
	if err != nil {
		return nil, c.err("unwrap", fmt.Errorf("authentication failed: %w", ErrInvalidCiphertext))
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

func (c *rootCipher) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.key)
	c.key = nil
}

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
			return fmt.Errorf("kms: create root key file %q: %w", path, ErrAlreadyExists)
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
	sentinel := ErrBackend
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sentinel = ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		sentinel = ErrPermissionDenied
	case errors.Is(err, fs.ErrExist):
		sentinel = ErrAlreadyExists
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errtext.Says(err, sentinel) {
		return errtext.Tagged(err, "kms: %s root key file %q: %w", op, path, sentinel)
	}
	return fmt.Errorf("kms: %s root key file %q: %w (%w)", op, path, sentinel, err)
}
