package kmstest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/kms"
)

// refStore is the simplest correct kms.Store: maps under a mutex. It proves
// the suite passes on a correct store, and its mutants that the suite
// catches broken ones.
type refStore struct {
	mu       sync.Mutex
	keysets  map[string]*kms.KeysetRecord
	subjects map[string]*kms.SubjectKeyRecord
	manifest *kms.Manifest

	noCAS bool // mutant: PutKeyset ignores the revision (lost updates)
}

func newRefStore() *refStore {
	return &refStore{keysets: map[string]*kms.KeysetRecord{}, subjects: map[string]*kms.SubjectKeyRecord{}}
}

func (s *refStore) GetKeyset(ctx context.Context, name string) (*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.keysets[name]
	if !ok {
		return nil, fmt.Errorf("keyset %q: %w", name, kms.ErrNotFound)
	}
	return cloneKeyset(rec), nil
}

func (s *refStore) ListKeysets(ctx context.Context) ([]*kms.KeysetRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kms.KeysetRecord
	for _, rec := range s.keysets {
		out = append(out, cloneKeyset(rec))
	}
	slices.SortFunc(out, func(a, b *kms.KeysetRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *refStore) PutKeyset(ctx context.Context, rec *kms.KeysetRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	cur, ok := s.keysets[rec.Name]
	s.mu.Unlock()
	if s.noCAS {
		time.Sleep(time.Millisecond) // widen the race a real store has
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.noCAS {
		cur, ok = s.keysets[rec.Name]
	}
	switch {
	case rec.Revision == 0 && ok:
		return fmt.Errorf("keyset %q: %w", rec.Name, kms.ErrAlreadyExists)
	case rec.Revision != 0 && (!ok || cur.Revision != rec.Revision) && !s.noCAS:
		return fmt.Errorf("keyset %q: %w", rec.Name, kms.ErrConflict)
	}
	c := cloneKeyset(rec)
	c.Revision++
	s.keysets[rec.Name] = c
	rec.Revision = c.Revision
	return nil
}

func (s *refStore) GetSubjectKey(ctx context.Context, id string) (*kms.SubjectKeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.subjects[id]
	if !ok {
		return nil, kms.ErrNotFound
	}
	c := *rec
	c.EncryptedKey = bytes.Clone(rec.EncryptedKey)
	return &c, nil
}

func (s *refStore) PutSubjectKey(ctx context.Context, rec *kms.SubjectKeyRecord) error {
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

func (s *refStore) DestroySubjectKey(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.subjects[id]
	if !ok {
		return kms.ErrNotFound
	}
	if rec.Destroyed.IsZero() {
		clear(rec.EncryptedKey)
		rec.EncryptedKey = nil
		rec.Destroyed = at
	}
	return nil
}

func (s *refStore) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.manifest == nil {
		return nil, kms.ErrNotFound
	}
	c := *s.manifest
	c.RootCheck = bytes.Clone(c.RootCheck)
	c.Keysets = slices.Clone(c.Keysets)
	return &c, nil
}

func (s *refStore) PutManifest(ctx context.Context, m *kms.Manifest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m.Revision == 0 && s.manifest != nil:
		return kms.ErrAlreadyExists
	case m.Revision != 0 && (s.manifest == nil || s.manifest.Revision != m.Revision):
		return kms.ErrConflict
	}
	c := *m
	c.RootCheck = bytes.Clone(m.RootCheck)
	c.Keysets = slices.Clone(m.Keysets)
	c.Revision++
	s.manifest = &c
	m.Revision = c.Revision
	return nil
}

func TestStoreSuitePassesOnReferenceStore(t *testing.T) {
	RunStoreTests(t, func(*testing.T) kms.Store { return newRefStore() })
}

// recorder is a testing.TB that records failures instead of failing the
// test, so that a mutant store can be expected to fail the suite.
type recorder struct {
	*testing.T
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fail()             { r.Errorf("failed") }
func (r *recorder) FailNow()          { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Error(args...); runtime.Goexit() }
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// runRecorded runs f against a recorder on its own goroutine (FailNow ends
// it) and returns whether f failed.
func runRecorded(t *testing.T, f func(testing.TB)) (failed bool, msgs []string) {
	r := &recorder{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.Failed(), r.msgs
}

func TestConcurrentRotationsCatchesLostUpdates(t *testing.T) {
	mutant := newRefStore()
	mutant.noCAS = true
	failed, msgs := runRecorded(t, func(tb testing.TB) {
		RunConcurrentRotations(tb, []kms.Store{mutant}, 8, 10)
	})
	assert.True(t, failed, "a store without compare-and-swap must fail the rotation test")
	t.Logf("mutant failed with: %.200q", msgs)
}
