package insecuremem

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/storekit"
)

// Store is a kms.Store that keeps everything in memory, for tests and
// demos. Nothing survives the process: every keyset made in it is lost at
// exit, and with it whatever the keyset protected, so it is no store for
// keys that protect data kept anywhere. (A scratch store that only holds
// what is restored into it from a backup, to check something and be
// thrown away, is fine: cmd/piiguard verifies backups that way.) It
// implements kms.SubjectKeyRewrapper, and DeleteKeyset for
// kms.Admin.Restore. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	keysets  map[string]*kms.KeysetRecord
	subjects map[string]*kms.SubjectKeyRecord
	manifest *kms.Manifest
}

var (
	_ kms.Store               = (*Store)(nil)
	_ kms.SubjectKeyRewrapper = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{keysets: map[string]*kms.KeysetRecord{}, subjects: map[string]*kms.SubjectKeyRecord{}}
}

// GetKeyset implements kms.KeysetStore.
func (s *Store) GetKeyset(ctx context.Context, name string) (*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.keysets[name]
	if !ok {
		return nil, fmt.Errorf("insecuremem: keyset %q: %w", name, kms.ErrNotFound)
	}
	return storekit.CloneRecord(r), nil
}

// ListKeysets implements kms.KeysetStore.
func (s *Store) ListKeysets(ctx context.Context) ([]*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*kms.KeysetRecord, 0, len(s.keysets))
	for _, r := range s.keysets {
		out = append(out, storekit.CloneRecord(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PutKeyset implements kms.KeysetStore.
func (s *Store) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.keysets[rec.Name]
	switch {
	case rec.Revision == 0 && ok:
		return fmt.Errorf("insecuremem: keyset %q: %w", rec.Name, kms.ErrAlreadyExists)
	case rec.Revision != 0 && !ok:
		return fmt.Errorf("insecuremem: keyset %q: revision %d of a keyset that does not exist: %w", rec.Name, rec.Revision, kms.ErrConflict)
	case ok && cur.Revision != rec.Revision:
		return fmt.Errorf("insecuremem: keyset %q: revision %d is stale: %w", rec.Name, rec.Revision, kms.ErrConflict)
	}
	c := storekit.CloneRecord(rec)
	c.Revision++
	s.keysets[rec.Name] = c
	rec.Revision = c.Revision
	return nil
}

// DeleteKeyset removes a keyset; Restore uses it to undo a partial restore.
func (s *Store) DeleteKeyset(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keysets[name]; !ok {
		return fmt.Errorf("insecuremem: keyset %q: %w", name, kms.ErrNotFound)
	}
	delete(s.keysets, name)
	return nil
}

// GetManifest implements kms.ManifestStore.
func (s *Store) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.manifest == nil {
		return nil, fmt.Errorf("insecuremem: manifest: %w", kms.ErrNotFound)
	}
	return storekit.CloneManifest(s.manifest), nil
}

// PutManifest implements kms.ManifestStore.
func (s *Store) PutManifest(ctx context.Context, m *kms.Manifest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := storekit.CheckManifestCAS(s.manifest, m); err != nil {
		return fmt.Errorf("insecuremem: %w", err)
	}
	c := storekit.CloneManifest(m)
	c.Revision++
	s.manifest = c
	m.Revision = c.Revision
	return nil
}

// GetSubjectKey implements kms.SubjectKeyStore.
func (s *Store) GetSubjectKey(ctx context.Context, subjectID string) (*kms.SubjectKeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[subjectID]
	if !ok {
		return nil, kms.ErrNotFound
	}
	c := *r
	c.EncryptedKey = bytes.Clone(r.EncryptedKey)
	return &c, nil
}

// PutSubjectKey implements kms.SubjectKeyStore.
func (s *Store) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subjects[rec.SubjectID]; ok {
		return kms.ErrAlreadyExists
	}
	c := *rec
	c.EncryptedKey = bytes.Clone(rec.EncryptedKey)
	s.subjects[rec.SubjectID] = &c
	return nil
}

// DestroySubjectKey implements kms.SubjectKeyStore.
func (s *Store) DestroySubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[subjectID]
	if !ok {
		return kms.ErrNotFound
	}
	if r.Destroyed.IsZero() {
		clear(r.EncryptedKey)
		r.EncryptedKey = nil
		r.Destroyed = at
	}
	return nil
}

// ListSubjectKeys implements kms.SubjectKeyRewrapper, in subject ID order (the
// cursor is the last subject ID returned).
func (s *Store) ListSubjectKeys(ctx context.Context, cursor string, limit int) ([]*kms.SubjectKeyRecord, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return nil, "", fmt.Errorf("insecuremem: list subject keys: limit %d: %w", limit, kms.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.subjects))
	for id, r := range s.subjects {
		if id > cursor && r.Destroyed.IsZero() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*kms.SubjectKeyRecord, len(ids))
	for i, id := range ids {
		c := *s.subjects[id]
		c.EncryptedKey = bytes.Clone(c.EncryptedKey)
		out[i] = &c
	}
	next := ""
	if len(ids) == limit {
		next = ids[len(ids)-1]
	}
	return out, next, nil
}

// ReplaceSubjectKey implements kms.SubjectKeyRewrapper.
func (s *Store) ReplaceSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord, old []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[rec.SubjectID]
	switch {
	case !ok:
		return kms.ErrNotFound
	case !r.Destroyed.IsZero() || !bytes.Equal(r.EncryptedKey, old):
		return fmt.Errorf("destroyed or changed since it was read: %w", kms.ErrConflict)
	}
	clear(r.EncryptedKey)
	r.Keyset, r.EncryptedKey = rec.Keyset, bytes.Clone(rec.EncryptedKey)
	return nil
}
