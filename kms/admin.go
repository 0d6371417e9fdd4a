package kms

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/piiguard/piiguard/audit"
)

// Admin administers the keysets of a Keyring: their lifecycle (Create,
// Ensure, Rotate, AddVersion, Promote, Disable, Enable, Destroy), backups
// and the recovery drill (Backup, Restore, Verify, VerifyBackup), the
// migration to another root key (Rewrap), and crypto-shredding
// (DestroySubjectKey, RewrapSubjectKeys). The data path — primitives by
// name, subject keys, the cache — is the Keyring's.
//
// Every operation goes to the store, and most to the root key's backend,
// every time; each is reported to KeyringOptions.Audit, successful or not.
// A change to a keyset drops the keyring's cached copy of it at once, so
// that the next primitive the keyring hands out in this process reflects
// it; other processes sharing the store see it within
// KeyringOptions.CacheMaxAge (or on Refresh).
//
// An Admin is safe for concurrent use, also by several processes sharing
// one Store: writes are compare-and-swap on the keyset's revision and are
// retried on conflict, so no version is ever lost.
type Admin struct {
	k *Keyring
}

// NewAdmin returns the administration of k's keysets. It shares everything
// with k — the store, the root keys, the options (audit sink, clock,
// subject keyset) and the cache — and holds nothing of its own: closing k
// closes it too (its operations then fail with ErrClosed). NewAdmin panics
// if k is nil.
func NewAdmin(k *Keyring) *Admin {
	if k == nil {
		panic("kms: NewAdmin: nil keyring")
	}
	return &Admin{k: k}
}

// Create makes a new keyset with one version, the primary. It fails with
// ErrAlreadyExists if the name is taken.
//
// Create never replaces keys that went missing. The store's Manifest lists
// every keyset it has held: a name it lists whose record is gone fails with
// ErrKeysMissing (restore the store from a backup: a new keyset of that name
// would not open what the old one sealed). The manifest also ties the store
// to its root key: a root key that is not the one the store was made under
// fails with ErrWrongRootKey, before anything is written. The first keyset
// of a store writes its manifest; a store from before manifests is adopted
// then, after the root key has opened one of its keysets.
func (a *Admin) Create(ctx context.Context, name string, purpose Purpose) (VersionRecord, error) {
	k := a.k
	v, err := a.create(ctx, name, purpose)
	return v, k.finish(ctx, audit.ActionKeyCreate, "create", name, v.ID, err)
}

func (a *Admin) create(ctx context.Context, name string, purpose Purpose) (VersionRecord, error) {
	k := a.k
	if err := k.check("create", name); err != nil {
		return VersionRecord{}, err
	}
	if err := validName(name); err != nil {
		return VersionRecord{}, err
	}
	if _, err := purpose.template(); err != nil {
		return VersionRecord{}, err
	}
	if err := k.beforeCreate(ctx, name); err != nil {
		return VersionRecord{}, err
	}
	m := keyset.NewManager()
	id, err := newVersion(m, purpose, nil)
	if err != nil {
		return VersionRecord{}, err
	}
	if err := m.SetPrimary(id); err != nil {
		return VersionRecord{}, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	h, err := m.Handle()
	if err != nil {
		return VersionRecord{}, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	canary, err := makeCanary(h, purpose, id)
	if err != nil {
		return VersionRecord{}, fmt.Errorf("%w: canary: %w", ErrBackend, err)
	}
	now := nowUTC(k.now)
	v := VersionRecord{ID: id, Number: 1, Status: StatusEnabled, Primary: true, Created: now, Updated: now, Canary: canary}
	rec := &KeysetRecord{Name: name, Purpose: purpose, Versions: []VersionRecord{v}, Created: now, Updated: now}
	if err := sealKeyset(ctx, k.currentRoot(), rec, h); err != nil {
		return VersionRecord{}, err
	}
	if err := k.store.PutKeyset(ctx, rec); err != nil {
		return VersionRecord{}, err
	}
	if err := k.noteKeysets(ctx, name); err != nil {
		return v, fmt.Errorf("keyset created, but %w", err)
	}
	return v, nil
}

// Ensure creates the keyset if the store has never held it. An existing
// keyset of another purpose is an ErrInvalidArgument error.
//
// An existing keyset costs one store read: no root key call and no audit
// event. A missing one is created (and reported) as Create does, with the
// same refusals: a keyset the store held and lost is ErrKeysMissing and a
// root key the store was not made under is ErrWrongRootKey — where keys
// existed, their absence is an error, never a reason to make new ones.
// Ensure cannot tell a key store that was replaced whole (a deleted or
// emptied database) from a new one; an application whose data exists
// without its keys checks that itself (see examples/quickstart).
func (a *Admin) Ensure(ctx context.Context, name string, purpose Purpose) error {
	k := a.k
	if err := k.check("ensure", name); err != nil {
		return err
	}
	rec, err := k.store.GetKeyset(ctx, name)
	if errors.Is(err, ErrNotFound) {
		_, err = a.Create(ctx, name, purpose)
		if !errors.Is(err, ErrAlreadyExists) {
			return err
		}
		// Another writer created it first: check what it made.
		rec, err = k.store.GetKeyset(ctx, name)
	}
	if err != nil {
		return keyErr("ensure", name, 0, err)
	}
	if rec.Purpose != purpose {
		return keyErr("ensure", name, 0, fmt.Errorf("%w: keyset is for %s, not %s", ErrInvalidArgument, rec.Purpose, purpose))
	}
	return nil
}

// Versions lists the versions of a keyset, oldest first. It reads the store
// only: no call reaches the root key's backend.
func (a *Admin) Versions(ctx context.Context, name string) ([]VersionRecord, error) {
	k := a.k
	if err := k.check("versions", name); err != nil {
		return nil, err
	}
	rec, err := k.store.GetKeyset(ctx, name)
	if err != nil {
		return nil, keyErr("versions", name, 0, err)
	}
	out := cloneRecord(rec).Versions
	for i := range out {
		out[i].Canary = nil
	}
	return out, nil
}

// Keysets lists the names and purposes of every keyset in the store.
func (a *Admin) Keysets(ctx context.Context) (map[string]Purpose, error) {
	k := a.k
	if err := k.check("list", ""); err != nil {
		return nil, err
	}
	recs, err := k.store.ListKeysets(ctx)
	if err != nil {
		return nil, fmt.Errorf("kms: list keysets: %w", err)
	}
	out := make(map[string]Purpose, len(recs))
	for _, r := range recs {
		out[r.Name] = r.Purpose
	}
	return out, nil
}

// maxConflictRetries bounds how often a keyset change is retried when
// another writer changed the keyset first.
const maxConflictRetries = 30

// retryConflict reports whether a change that failed with err on attempt
// (from 0) should be tried again, after waiting a random time that grows
// with the attempt (up to 50 ms), so that writers racing for one keyset do
// not keep colliding in lockstep.
func retryConflict(ctx context.Context, err error, attempt int) bool {
	if !errors.Is(err, ErrConflict) || attempt >= maxConflictRetries {
		return false
	}
	limit := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
