package kms

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory, for tests and
// demos. Nothing survives the process; it is safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	keysets  map[string]*KeysetRecord
	subjects map[string]*SubjectKeyRecord
	manifest *Manifest
}

var (
	_ Store               = (*MemoryStore)(nil)
	_ SubjectKeyRewrapper = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{keysets: map[string]*KeysetRecord{}, subjects: map[string]*SubjectKeyRecord{}}
}

// GetKeyset implements KeysetStore.
func (s *MemoryStore) GetKeyset(ctx context.Context, name string) (*KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.keysets[name]
	if !ok {
		return nil, fmt.Errorf("kms: keyset %q: %w", name, ErrNotFound)
	}
	return cloneRecord(r), nil
}

// ListKeysets implements KeysetStore.
func (s *MemoryStore) ListKeysets(ctx context.Context) ([]*KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*KeysetRecord, 0, len(s.keysets))
	for _, r := range s.keysets {
		out = append(out, cloneRecord(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PutKeyset implements KeysetStore.
func (s *MemoryStore) PutKeyset(ctx context.Context, rec *KeysetRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.keysets[rec.Name]
	switch {
	case rec.Revision == 0 && ok:
		return fmt.Errorf("kms: keyset %q: %w", rec.Name, ErrAlreadyExists)
	case rec.Revision != 0 && !ok:
		return fmt.Errorf("kms: keyset %q: revision %d of a keyset that does not exist: %w", rec.Name, rec.Revision, ErrConflict)
	case ok && cur.Revision != rec.Revision:
		return fmt.Errorf("kms: keyset %q: revision %d is stale: %w", rec.Name, rec.Revision, ErrConflict)
	}
	c := cloneRecord(rec)
	c.Revision++
	s.keysets[rec.Name] = c
	rec.Revision = c.Revision
	return nil
}

// DeleteKeyset removes a keyset; Restore uses it to undo a partial restore.
func (s *MemoryStore) DeleteKeyset(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keysets[name]; !ok {
		return fmt.Errorf("kms: keyset %q: %w", name, ErrNotFound)
	}
	delete(s.keysets, name)
	return nil
}

// GetManifest implements ManifestStore.
func (s *MemoryStore) GetManifest(ctx context.Context) (*Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.manifest == nil {
		return nil, fmt.Errorf("kms: manifest: %w", ErrNotFound)
	}
	return s.manifest.clone(), nil
}

// PutManifest implements ManifestStore.
func (s *MemoryStore) PutManifest(ctx context.Context, m *Manifest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := casManifest(s.manifest, m); err != nil {
		return err
	}
	c := m.clone()
	c.Revision++
	s.manifest = c
	m.Revision = c.Revision
	return nil
}

// casManifest checks a manifest write of m over cur (nil: none) as
// ManifestStore.PutManifest specifies.
func casManifest(cur, m *Manifest) error {
	switch {
	case m.Revision == 0 && cur != nil:
		return fmt.Errorf("kms: manifest: %w", ErrAlreadyExists)
	case m.Revision != 0 && cur == nil:
		return fmt.Errorf("kms: manifest: revision %d of a manifest that does not exist: %w", m.Revision, ErrConflict)
	case cur != nil && cur.Revision != m.Revision:
		return fmt.Errorf("kms: manifest: revision %d is stale: %w", m.Revision, ErrConflict)
	}
	return nil
}

// GetSubjectKey implements SubjectKeyStore.
func (s *MemoryStore) GetSubjectKey(ctx context.Context, subjectID string) (*SubjectKeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[subjectID]
	if !ok {
		return nil, ErrNotFound
	}
	c := *r
	c.EncryptedKey = bytes.Clone(r.EncryptedKey)
	return &c, nil
}

// PutSubjectKey implements SubjectKeyStore.
func (s *MemoryStore) PutSubjectKey(ctx context.Context, rec *SubjectKeyRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subjects[rec.SubjectID]; ok {
		return ErrAlreadyExists
	}
	c := *rec
	c.EncryptedKey = bytes.Clone(rec.EncryptedKey)
	s.subjects[rec.SubjectID] = &c
	return nil
}

// DestroySubjectKey implements SubjectKeyStore.
func (s *MemoryStore) DestroySubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[subjectID]
	if !ok {
		return ErrNotFound
	}
	if r.Destroyed.IsZero() {
		clear(r.EncryptedKey)
		r.EncryptedKey = nil
		r.Destroyed = at
	}
	return nil
}

// ListSubjectKeys implements SubjectKeyRewrapper, in subject ID order (the
// cursor is the last subject ID returned).
func (s *MemoryStore) ListSubjectKeys(ctx context.Context, cursor string, limit int) ([]*SubjectKeyRecord, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return nil, "", fmt.Errorf("kms: list subject keys: limit %d: %w", limit, ErrInvalidArgument)
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
	out := make([]*SubjectKeyRecord, len(ids))
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

// ReplaceSubjectKey implements SubjectKeyRewrapper.
func (s *MemoryStore) ReplaceSubjectKey(ctx context.Context, rec *SubjectKeyRecord, old []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[rec.SubjectID]
	switch {
	case !ok:
		return ErrNotFound
	case !r.Destroyed.IsZero() || !bytes.Equal(r.EncryptedKey, old):
		return fmt.Errorf("destroyed or changed since it was read: %w", ErrConflict)
	}
	clear(r.EncryptedKey)
	r.Keyset, r.EncryptedKey = rec.Keyset, bytes.Clone(rec.EncryptedKey)
	return nil
}
