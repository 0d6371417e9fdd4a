package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/format"
	"github.com/piiguard/piiguard/kms/internal/storekit"
)

// Store is a kms.Store in a directory, for a single host (several
// processes on it may share the directory). Layout:
//
//	DIR/keysets/NAME.json            one keyset record (JSON, see below)
//	DIR/subjects/HH/SHA256.json      one subject key; SHA256 is the hex
//	                                 SHA-256 of the subject ID, HH its first
//	                                 two characters (no directory grows huge)
//	DIR/manifest.json                the store's kms.Manifest (format in
//	                                 the package documentation)
//	DIR/.lock                        taken (flock) by every writer
//
// Every file is written atomically (temporary file, fsync, rename, fsync of
// the directory) with mode 0600, so a crash leaves the old record or the new
// one, never a torn one. PutKeyset holds the lock while it compares the
// revision and renames, which makes it a compare-and-swap across processes.
//
// A keyset file is a JSON object with the fields name, purpose, revision,
// root_key, wrapped_data_key and encrypted_keyset (base64), versions (id,
// number, status, primary, created, updated, canary) and created/updated
// (RFC 3339): the keyset object of a key backup, with its revision. A
// subject file has subject_id, keyset, encrypted_key, created and, once
// destroyed, destroyed with encrypted_key removed.
//
// A Store implements kms.Store and kms.SubjectKeyRewrapper, and can delete
// a keyset (DeleteKeyset), which kms.Admin.Restore uses to undo a restore
// that failed half way.
type Store struct {
	dir string
}

var (
	_ kms.Store               = (*Store)(nil)
	_ kms.SubjectKeyRewrapper = (*Store)(nil)
)

// Open returns a Store over dir, creating its directories (mode 0700) if
// needed. It fails with an error wrapping kms.ErrUnavailable if it cannot.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "keysets"), filepath.Join(dir, "subjects")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("filestore: file store %q: %w: %w", dir, kms.ErrUnavailable, err)
		}
	}
	return &Store{dir: dir}, nil
}

// String names the store's directory.
func (s *Store) String() string { return "filestore.Store(" + s.dir + ")" }

func (s *Store) keysetPath(name string) string {
	return filepath.Join(s.dir, "keysets", name+".json")
}

func (s *Store) subjectPath(subjectID string) string {
	sum := sha256.Sum256([]byte(subjectID))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(s.dir, "subjects", h[:2], h+".json")
}

// lock takes the store's write lock, waiting for it as long as ctx allows.
func (s *Store) lock(ctx context.Context) (func(), error) {
	for {
		unlock, busy, err := tryLock(filepath.Join(s.dir, ".lock"))
		if err != nil {
			return nil, fmt.Errorf("filestore: file store %q: lock: %w: %w", s.dir, kms.ErrUnavailable, err)
		}
		if !busy {
			return unlock, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (s *Store) readKeyset(name string) (*kms.KeysetRecord, error) {
	data, err := os.ReadFile(s.keysetPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: keyset %q: %w", name, kms.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: keyset %q: %w: %w", name, kms.ErrUnavailable, err)
	}
	var j format.Keyset
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("filestore: keyset file %q: %w: not valid JSON", s.keysetPath(name), kms.ErrCorrupt)
	}
	if err := j.Validate(); err != nil {
		return nil, fmt.Errorf("filestore: keyset file %q: %w: %w", s.keysetPath(name), kms.ErrCorrupt, err)
	}
	if j.Name != name {
		return nil, fmt.Errorf("filestore: keyset file %q: %w: holds keyset %q", s.keysetPath(name), kms.ErrCorrupt, j.Name)
	}
	return storekit.FromWire(j), nil
}

// GetKeyset implements kms.KeysetStore.
func (s *Store) GetKeyset(ctx context.Context, name string) (*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := format.ValidName(name); err != nil {
		return nil, fmt.Errorf("filestore: keyset %q: %w", name, err)
	}
	return s.readKeyset(name)
}

// ListKeysets implements kms.KeysetStore.
func (s *Store) ListKeysets(ctx context.Context) ([]*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, "keysets"))
	if err != nil {
		return nil, fmt.Errorf("filestore: file store %q: %w: %w", s.dir, kms.ErrUnavailable, err)
	}
	var out []*kms.KeysetRecord
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		r, err := s.readKeyset(name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PutKeyset implements kms.KeysetStore.
func (s *Store) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := format.ValidName(rec.Name); err != nil {
		return fmt.Errorf("filestore: keyset %q: %w", rec.Name, err)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := s.readKeyset(rec.Name)
	exists := err == nil
	if err != nil && !errors.Is(err, kms.ErrNotFound) {
		return err
	}
	switch {
	case rec.Revision == 0 && exists:
		return fmt.Errorf("filestore: keyset %q: %w", rec.Name, kms.ErrAlreadyExists)
	case rec.Revision != 0 && !exists:
		return fmt.Errorf("filestore: keyset %q: revision %d of a keyset that does not exist: %w", rec.Name, rec.Revision, kms.ErrConflict)
	case exists && cur.Revision != rec.Revision:
		return fmt.Errorf("filestore: keyset %q: revision %d is stale: %w", rec.Name, rec.Revision, kms.ErrConflict)
	}
	j := storekit.ToWire(rec)
	j.Revision = rec.Revision + 1
	if err := j.Validate(); err != nil {
		return fmt.Errorf("filestore: keyset %q: %w: %w", rec.Name, kms.ErrInvalidArgument, err)
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("filestore: keyset %q: %w: %w", rec.Name, kms.ErrBackend, err)
	}
	if err := fsutil.WriteFileAtomic(s.keysetPath(rec.Name), data, 0o600, false); err != nil {
		return fmt.Errorf("filestore: keyset %q: write: %w: %w", rec.Name, kms.ErrUnavailable, err)
	}
	rec.Revision = j.Revision
	return nil
}

// DeleteKeyset removes a keyset; Restore uses it to undo a partial restore.
func (s *Store) DeleteKeyset(ctx context.Context, name string) error {
	if err := format.ValidName(name); err != nil {
		return fmt.Errorf("filestore: keyset %q: %w", name, err)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(s.keysetPath(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filestore: keyset %q: %w", name, kms.ErrNotFound)
		}
		return fmt.Errorf("filestore: keyset %q: %w: %w", name, kms.ErrUnavailable, err)
	}
	return fsutil.SyncDir(filepath.Join(s.dir, "keysets"))
}

func (s *Store) manifestPath() string { return filepath.Join(s.dir, "manifest.json") }

func (s *Store) readManifest() (*kms.Manifest, error) {
	data, err := os.ReadFile(s.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: manifest: %w", kms.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: manifest file %q: %w: %w", s.manifestPath(), kms.ErrUnavailable, err)
	}
	m, err := unmarshalManifest(data)
	if err != nil {
		return nil, fmt.Errorf("filestore: manifest file %q: %w", s.manifestPath(), err)
	}
	return m, nil
}

// GetManifest implements kms.ManifestStore.
func (s *Store) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.readManifest()
}

// PutManifest implements kms.ManifestStore.
func (s *Store) PutManifest(ctx context.Context, m *kms.Manifest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := s.readManifest()
	if errors.Is(err, kms.ErrNotFound) {
		cur, err = nil, nil
	}
	if err != nil {
		return err
	}
	if err := storekit.CheckManifestCAS(cur, m); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	next := storekit.CloneManifest(m)
	next.Revision++
	data, err := marshalManifest(next)
	if err != nil {
		return fmt.Errorf("filestore: manifest: %w: %w", kms.ErrInvalidArgument, err)
	}
	if err := fsutil.WriteFileAtomic(s.manifestPath(), data, 0o600, false); err != nil {
		return fmt.Errorf("filestore: manifest file %q: write: %w: %w", s.manifestPath(), kms.ErrUnavailable, err)
	}
	m.Revision = next.Revision
	return nil
}

type subjectJSON struct {
	SubjectID    string     `json:"subject_id"`
	Keyset       string     `json:"keyset"`
	EncryptedKey []byte     `json:"encrypted_key,omitempty"`
	Created      time.Time  `json:"created"`
	Destroyed    *time.Time `json:"destroyed,omitempty"`
}

func (s *Store) readSubject(subjectID string) (*kms.SubjectKeyRecord, error) {
	return s.readSubjectFile(s.subjectPath(subjectID), subjectID)
}

// readSubjectFile reads the subject key file p, which must hold the key of
// subjectID ("": of the subject whose hash names the file).
func (s *Store) readSubjectFile(p, subjectID string) (*kms.SubjectKeyRecord, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: subject key: %w", kms.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: subject key: %w: %w", kms.ErrUnavailable, err)
	}
	var j subjectJSON
	if err := json.Unmarshal(data, &j); err != nil || j.SubjectID == "" ||
		(subjectID != "" && j.SubjectID != subjectID) || s.subjectPath(j.SubjectID) != p {
		return nil, fmt.Errorf("filestore: subject key file %q: %w", p, kms.ErrCorrupt)
	}
	r := &kms.SubjectKeyRecord{SubjectID: j.SubjectID, Keyset: j.Keyset, EncryptedKey: j.EncryptedKey, Created: j.Created}
	if j.Destroyed != nil {
		r.Destroyed = *j.Destroyed
		r.EncryptedKey = nil
	} else if len(r.EncryptedKey) == 0 {
		return nil, fmt.Errorf("filestore: subject key file %q: %w: key missing", p, kms.ErrCorrupt)
	}
	return r, nil
}

func (s *Store) writeSubject(r *kms.SubjectKeyRecord, exclusive bool) error {
	j := subjectJSON{SubjectID: r.SubjectID, Keyset: r.Keyset, EncryptedKey: r.EncryptedKey, Created: r.Created}
	if !r.Destroyed.IsZero() {
		d := r.Destroyed
		j.Destroyed = &d
		j.EncryptedKey = nil
	}
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("filestore: subject key: %w: %w", kms.ErrBackend, err)
	}
	p := s.subjectPath(r.SubjectID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("filestore: subject key: %w: %w", kms.ErrUnavailable, err)
	}
	if err := fsutil.WriteFileAtomic(p, data, 0o600, exclusive); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("filestore: subject key: %w", kms.ErrAlreadyExists)
		}
		return fmt.Errorf("filestore: subject key: write: %w: %w", kms.ErrUnavailable, err)
	}
	return nil
}

// GetSubjectKey implements kms.SubjectKeyStore.
func (s *Store) GetSubjectKey(ctx context.Context, subjectID string) (*kms.SubjectKeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.readSubject(subjectID)
}

// PutSubjectKey implements kms.SubjectKeyStore.
func (s *Store) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.writeSubject(rec, true)
}

// ListSubjectKeys implements kms.SubjectKeyRewrapper, in the order of the
// files' names (hashes of the subject IDs; the cursor is the last one
// returned). It reads every file up to the page's end.
func (s *Store) ListSubjectKeys(ctx context.Context, cursor string, limit int) ([]*kms.SubjectKeyRecord, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("filestore: list subject keys: limit %d: %w", limit, kms.ErrInvalidArgument)
	}
	root := filepath.Join(s.dir, "subjects")
	dirs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("filestore: list subject keys: %w: %w", kms.ErrUnavailable, err)
	}
	var out []*kms.SubjectKeyRecord
	for _, d := range dirs { // os.ReadDir sorts by name
		if !d.IsDir() || len(d.Name()) != 2 || (len(cursor) >= 2 && d.Name() < cursor[:2]) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			return nil, "", fmt.Errorf("filestore: list subject keys: %w: %w", kms.ErrUnavailable, err)
		}
		for _, f := range files {
			h, ok := strings.CutSuffix(f.Name(), ".json")
			if !ok || len(h) != 2*sha256.Size || !strings.HasPrefix(h, d.Name()) || h <= cursor {
				continue // a temporary file of a write, or before the cursor
			}
			if err := ctx.Err(); err != nil {
				return nil, "", err
			}
			r, err := s.readSubjectFile(filepath.Join(root, d.Name(), f.Name()), "")
			if errors.Is(err, kms.ErrNotFound) {
				continue // removed since the directory was read
			}
			if err != nil {
				return nil, "", err
			}
			if !r.Destroyed.IsZero() {
				continue
			}
			out = append(out, r)
			if len(out) == limit {
				return out, h, nil
			}
		}
	}
	return out, "", nil
}

// ReplaceSubjectKey implements kms.SubjectKeyRewrapper, under the store's lock.
func (s *Store) ReplaceSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord, old []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.readSubject(rec.SubjectID)
	if err != nil {
		return err
	}
	if !r.Destroyed.IsZero() || !bytes.Equal(r.EncryptedKey, old) {
		return fmt.Errorf("filestore: subject key: destroyed or changed since it was read: %w", kms.ErrConflict)
	}
	r.Keyset, r.EncryptedKey = rec.Keyset, rec.EncryptedKey
	return s.writeSubject(r, false)
}

// DestroySubjectKey implements kms.SubjectKeyStore. The tombstone replaces the
// key file atomically; what the file system keeps of the old blocks is
// beyond its reach (see the package documentation on crypto-shredding).
func (s *Store) DestroySubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := s.readSubject(subjectID)
	if err != nil {
		return err
	}
	if !r.Destroyed.IsZero() {
		return nil
	}
	r.Destroyed = at
	return s.writeSubject(r, false)
}
