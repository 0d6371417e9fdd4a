package kms

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/piiguard/piiguard/audit"
)

// KeyringOptions configures a Keyring. The zero value gives the defaults
// written beside each field.
type KeyringOptions struct {
	// Audit receives an event for every key operation (create, rotate,
	// enable, disable, destroy, rewrap, restore, verify, subject key create
	// and destroy). Nil drops the events; production code should set it.
	Audit audit.Sink
	// AdditionalRoots are other root keys the keyring may find named in a
	// keyset record (by RootKey.Name), for a fleet in the middle of a
	// migration from one root key to another. The root key passed to
	// NewKeyring wraps everything the keyring writes.
	AdditionalRoots []*RootKey
	// CacheMaxAge bounds how long an unwrapped keyset is used before it is
	// reloaded from the store. It is also how long another process may keep
	// using a keyset after this one changed it. Default 10 minutes.
	CacheMaxAge time.Duration
	// CacheMaxEntries bounds the number of keysets kept unwrapped. Default 1024.
	CacheMaxEntries int
	// SubjectCacheMaxAge and SubjectCacheMaxEntries bound the cache of
	// subject keys. Defaults 5 minutes and 100,000.
	SubjectCacheMaxAge     time.Duration
	SubjectCacheMaxEntries int
	// StaleIfUnavailable lets an expired cache entry serve for this long
	// past CacheMaxAge while the root key's backend or the store is
	// unavailable (ErrUnavailable, or no answer within LoadTimeout).
	// Callers wait for the reload of such an entry 1 second at most, then
	// get the old entry while the reload goes on; after a failed reload
	// it serves from the cache like a fresh one, and every 5 seconds (or
	// CacheMaxAge, if shorter) one reload is tried in the background while
	// the old entry keeps serving, so an outage costs one failed reload per
	// key and interval, not one per call. Any other failure of a reload
	// (the keyset was disabled, destroyed or deleted, access was denied)
	// ends it at once. Default 1 hour; a negative value disables it.
	StaleIfUnavailable time.Duration
	// LoadTimeout bounds one cache load (a store read and a root key
	// unwrap, retries included); a load that runs out of it counts as
	// unavailable. Callers waiting on a load stop when their own context
	// ends. Default 30 seconds.
	LoadTimeout time.Duration
	// SubjectKeyset is the name of the AEAD keyset that wraps subject keys.
	// It is created on first use. Default "subjects".
	SubjectKeyset string
	// Clock returns the current time; tests set it. Default time.Now.
	Clock func() time.Time
}

func (o *KeyringOptions) setDefaults() {
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.CacheMaxAge <= 0 {
		o.CacheMaxAge = 10 * time.Minute
	}
	if o.CacheMaxEntries <= 0 {
		o.CacheMaxEntries = 1024
	}
	if o.SubjectCacheMaxAge <= 0 {
		o.SubjectCacheMaxAge = 5 * time.Minute
	}
	if o.SubjectCacheMaxEntries <= 0 {
		o.SubjectCacheMaxEntries = 100_000
	}
	if o.StaleIfUnavailable == 0 {
		o.StaleIfUnavailable = time.Hour
	} else if o.StaleIfUnavailable < 0 {
		o.StaleIfUnavailable = 0
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 30 * time.Second
	}
	if o.SubjectKeyset == "" {
		o.SubjectKeyset = "subjects"
	}
}

// now returns the keyring's current time.
func (k *Keyring) now() time.Time {
	if k.opts.Clock != nil {
		return k.opts.Clock()
	}
	return time.Now()
}

// Keyring is the set of named keysets of an application, kept encrypted in a
// Store under a root key, with their unwrapped primitives cached in memory.
//
// Getting a primitive (AEAD, PRF, …) is a map lookup once the keyset is
// cached; the root key's backend is only called on a miss, once per keyset
// however many goroutines miss at the same time. Key operations (Create,
// Rotate, Disable, Enable, Destroy, Rewrap) go to the store and the backend
// every time.
//
// A Keyring is safe for concurrent use, also by several processes sharing
// one Store: writes are compare-and-swap on the keyset's revision and are
// retried on conflict, so no version is ever lost.
type Keyring struct {
	store Store
	opts  KeyringOptions

	mu     sync.RWMutex // guards root and roots
	root   *RootKey
	roots  map[string]*RootKey
	closed atomic.Bool

	keysets  *cache[*loadedKeyset]
	subjects *cache[*subjectKey]
}

// NewKeyring returns a keyring over store whose keysets are wrapped by root.
// It makes no call to the store or the backend. The keyring does not own
// root or store: closing it does not close them.
func NewKeyring(root *RootKey, store Store, opts KeyringOptions) (*Keyring, error) {
	if root == nil {
		return nil, fmt.Errorf("kms: new keyring: %w: nil root key", ErrInvalidArgument)
	}
	if store == nil {
		return nil, fmt.Errorf("kms: new keyring: %w: nil store", ErrInvalidArgument)
	}
	opts.setDefaults()
	if err := validName(opts.SubjectKeyset); err != nil {
		return nil, fmt.Errorf("kms: new keyring: subject keyset: %w", err)
	}
	k := &Keyring{
		store: store,
		opts:  opts,
		root:  root,
		roots: map[string]*RootKey{root.Name(): root},
	}
	for _, r := range opts.AdditionalRoots {
		if r == nil {
			return nil, fmt.Errorf("kms: new keyring: %w: nil additional root key", ErrInvalidArgument)
		}
		if _, dup := k.roots[r.Name()]; dup {
			return nil, fmt.Errorf("kms: new keyring: %w: two root keys named %q", ErrInvalidArgument, r.Name())
		}
		k.roots[r.Name()] = r
	}
	k.keysets = newCache[*loadedKeyset](opts.CacheMaxEntries, opts.CacheMaxAge, opts.StaleIfUnavailable, opts.LoadTimeout, opts.Clock)
	k.subjects = newCache[*subjectKey](opts.SubjectCacheMaxEntries, opts.SubjectCacheMaxAge, opts.StaleIfUnavailable, opts.LoadTimeout, opts.Clock)
	return k, nil
}

// String describes the keyring without revealing any key.
func (k *Keyring) String() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return fmt.Sprintf("kms.Keyring(root=%s, cached=%d)", k.root.Name(), k.keysets.len())
}

// Close drops every unwrapped key from memory. Later calls fail with
// ErrClosed. It does not close the root key or the store. Close is
// idempotent.
func (k *Keyring) Close() error {
	k.closed.Store(true)
	k.keysets.purge()
	k.subjects.purge()
	return nil
}

// check refuses work once the keyring is closed.
func (k *Keyring) check(op, name string) error {
	if k.closed.Load() {
		return keyErr(op, name, 0, ErrClosed)
	}
	return nil
}

func (k *Keyring) currentRoot() *RootKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.root
}

// rootFor returns the root key that wrapped rec: the one it names if the
// keyring knows it, the current one otherwise.
func (k *Keyring) rootFor(rec *KeysetRecord) *RootKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if r, ok := k.roots[rec.RootKey]; ok {
		return r
	}
	return k.root
}

// validName checks a keyset name: 1–128 characters of [A-Za-z0-9._-].
func validName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%w: keyset name must be 1 to 128 characters", ErrInvalidArgument)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: keyset name has a character outside [A-Za-z0-9._-] at byte %d", ErrInvalidArgument, i)
		}
	}
	return nil
}

// report sends a key event to the audit sink. A failed operation is
// reported with the class of its error; a sink failure is returned.
func (k *Keyring) report(ctx context.Context, e audit.Event, opErr error) error {
	e = audit.FromContext(ctx, e)
	e.Time = nowUTC(k.now)
	e.Outcome = audit.OutcomeSuccess
	if opErr != nil {
		e.Outcome = audit.OutcomeFailure
		e.Error = string(ErrorCode(opErr))
	}
	return k.opts.Audit.Record(ctx, e)
}

// finish reports the outcome of a key operation and builds its error.
func (k *Keyring) finish(ctx context.Context, action audit.Action, op, name string, id uint32, opErr error) error {
	aerr := k.report(ctx, audit.Event{Action: action, KeyName: name, KeyID: id}, opErr)
	if opErr != nil {
		var ke *KeyError
		if errors.As(opErr, &ke) {
			return opErr
		}
		return keyErr(op, name, id, opErr)
	}
	if aerr != nil {
		return keyErr(op, name, id, fmt.Errorf("done, but the audit event was not recorded: %w", aerr))
	}
	return nil
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
func (k *Keyring) Create(ctx context.Context, name string, purpose Purpose) (VersionRecord, error) {
	v, err := k.create(ctx, name, purpose)
	return v, k.finish(ctx, audit.ActionKeyCreate, "create", name, v.ID, err)
}

func (k *Keyring) create(ctx context.Context, name string, purpose Purpose) (VersionRecord, error) {
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
func (k *Keyring) Ensure(ctx context.Context, name string, purpose Purpose) error {
	if err := k.check("ensure", name); err != nil {
		return err
	}
	rec, err := k.store.GetKeyset(ctx, name)
	if errors.Is(err, ErrNotFound) {
		_, err = k.Create(ctx, name, purpose)
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
func (k *Keyring) Versions(ctx context.Context, name string) ([]VersionRecord, error) {
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
func (k *Keyring) Keysets(ctx context.Context) (map[string]Purpose, error) {
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

// Rotate adds a new version to the keyset and makes it the primary: from
// now on it encrypts (or computes), while the older versions keep
// decrypting until they are disabled or destroyed.
//
// Other processes sharing the store see the new version when their cache
// entry expires (KeyringOptions.CacheMaxAge) or on Refresh. In a fleet,
// prefer AddVersion, wait for CacheMaxAge, then Promote: every process can
// then read what the new primary writes from the first ciphertext.
func (k *Keyring) Rotate(ctx context.Context, name string) (VersionRecord, error) {
	v, err := k.addVersion(ctx, "rotate", name, true)
	return v, k.finish(ctx, audit.ActionKeyRotate, "rotate", name, v.ID, err)
}

// AddVersion adds a new enabled version that is not yet primary (the first
// half of a fleet-safe rotation; see Rotate).
func (k *Keyring) AddVersion(ctx context.Context, name string) (VersionRecord, error) {
	v, err := k.addVersion(ctx, "add version", name, false)
	return v, k.finish(ctx, audit.ActionKeyRotate, "add version", name, v.ID, err)
}

func (k *Keyring) addVersion(ctx context.Context, op, name string, primary bool) (VersionRecord, error) {
	var out VersionRecord
	err := k.modify(ctx, op, name, func(rec *KeysetRecord, m *keyset.Manager) error {
		taken := make(map[uint32]bool, len(rec.Versions))
		for _, v := range rec.Versions {
			taken[v.ID] = true
		}
		id, err := newVersion(m, rec.Purpose, taken)
		if err != nil {
			return err
		}
		h, err := m.Handle()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBackend, err)
		}
		canary, err := makeCanary(h, rec.Purpose, id)
		if err != nil {
			return fmt.Errorf("%w: canary: %w", ErrBackend, err)
		}
		now := nowUTC(k.now)
		out = VersionRecord{ID: id, Number: len(rec.Versions) + 1, Status: StatusEnabled, Created: now, Updated: now, Canary: canary}
		rec.Versions = append(rec.Versions, out)
		if primary {
			if err := setPrimary(rec, m, id, now); err != nil {
				return err
			}
			out.Primary = true
		}
		return nil
	})
	out.Canary = nil
	return out, err
}

// Promote makes an enabled version the primary.
func (k *Keyring) Promote(ctx context.Context, name string, keyID uint32) error {
	err := k.modify(ctx, "promote", name, func(rec *KeysetRecord, m *keyset.Manager) error {
		return setPrimary(rec, m, keyID, nowUTC(k.now))
	})
	return k.finish(ctx, audit.ActionKeyRotate, "promote", name, keyID, err)
}

func setPrimary(rec *KeysetRecord, m *keyset.Manager, id uint32, now time.Time) error {
	// The KeyError around these errors names the key ID.
	v := rec.Version(id)
	if v == nil {
		return fmt.Errorf("%w: no version has this key ID", ErrNotFound)
	}
	switch v.Status {
	case StatusDisabled:
		return fmt.Errorf("%w: a disabled version cannot be primary", ErrDisabled)
	case StatusDestroyed:
		return ErrDestroyed
	}
	if err := m.SetPrimary(id); err != nil {
		return fmt.Errorf("%w: %w", ErrBackend, err)
	}
	for i := range rec.Versions {
		p := rec.Versions[i].ID == id
		if rec.Versions[i].Primary != p {
			rec.Versions[i].Primary = p
			rec.Versions[i].Updated = now
		}
	}
	return nil
}

// Disable stops a version from decrypting (and computing) until it is
// enabled again. The primary cannot be disabled.
func (k *Keyring) Disable(ctx context.Context, name string, keyID uint32) error {
	err := k.setStatus(ctx, "disable", name, keyID, StatusDisabled)
	return k.finish(ctx, audit.ActionKeyDisable, "disable", name, keyID, err)
}

// Enable lets a disabled version decrypt again.
func (k *Keyring) Enable(ctx context.Context, name string, keyID uint32) error {
	err := k.setStatus(ctx, "enable", name, keyID, StatusEnabled)
	return k.finish(ctx, audit.ActionKeyEnable, "enable", name, keyID, err)
}

// Destroy erases a version's key material for good: whatever it encrypted
// can never be decrypted again, by this store or by any backup made from
// now on. The primary cannot be destroyed. Backups made before still hold
// the version; destroy them too, or the version lives on in them.
//
// A version of the subject keyset (KeyringOptions.SubjectKeyset) wraps the
// subject keys made while it was primary; destroying it would erase every
// one of those subjects at once. Destroy refuses it with ErrInvalidArgument
// while any live subject key still depends on it (run RewrapSubjectKeys
// first), and whenever the store cannot list subject keys to tell.
func (k *Keyring) Destroy(ctx context.Context, name string, keyID uint32) error {
	var err error
	if name == k.opts.SubjectKeyset {
		err = k.check("destroy", name)
		if err == nil {
			var n int
			n, err = k.subjectKeysWrappedBy(ctx, name, keyID)
			if err == nil && n > 0 {
				err = fmt.Errorf("%w: version %d still wraps %d subject keys, which would all be erased with it; run RewrapSubjectKeys first", ErrInvalidArgument, keyID, n)
			}
		}
	}
	if err == nil {
		err = k.setStatus(ctx, "destroy", name, keyID, StatusDestroyed)
	}
	return k.finish(ctx, audit.ActionKeyDestroy, "destroy", name, keyID, err)
}

func (k *Keyring) setStatus(ctx context.Context, op, name string, id uint32, to Status) error {
	return k.modify(ctx, op, name, func(rec *KeysetRecord, m *keyset.Manager) error {
		// The KeyError around these errors names the key ID.
		v := rec.Version(id)
		if v == nil {
			return fmt.Errorf("%w: no version has this key ID", ErrNotFound)
		}
		if v.Status == StatusDestroyed {
			return ErrDestroyed
		}
		if v.Primary && to != StatusEnabled {
			return fmt.Errorf("%w: it is the primary version; rotate first", ErrInvalidArgument)
		}
		if v.Status == to {
			return nil
		}
		var err error
		switch to {
		case StatusEnabled:
			err = m.Enable(id)
		case StatusDisabled:
			err = m.Disable(id)
		case StatusDestroyed:
			err = m.Delete(id)
			v.Canary = nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBackend, err)
		}
		v.Status = to
		v.Updated = nowUTC(k.now)
		return nil
	})
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

// modify applies change to the stored keyset as a compare-and-swap, retrying
// on conflict with fresh state. The keyset is re-encrypted under its
// existing data key, so a change costs one unwrap and no wrap.
func (k *Keyring) modify(ctx context.Context, op, name string, change func(*KeysetRecord, *keyset.Manager) error) error {
	if err := k.check(op, name); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		stored, err := k.store.GetKeyset(ctx, name)
		if err != nil {
			return err
		}
		rec := cloneRecord(stored)
		dk, err := unwrapDataKey(ctx, k.rootFor(rec), rec)
		if err != nil {
			return err
		}
		err = func() error {
			defer clear(dk)
			h, err := decryptKeyset(dk, rec)
			if err != nil {
				return err
			}
			m := keyset.NewManagerFromHandle(h)
			if err := change(rec, m); err != nil {
				return err
			}
			nh, err := m.Handle()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrBackend, err)
			}
			ct, err := encryptKeyset(dk, nh, keysetAD(rec.Name, rec.Purpose))
			if err != nil {
				return err
			}
			rec.EncryptedKeyset = ct
			rec.Updated = nowUTC(k.now)
			return k.store.PutKeyset(ctx, rec)
		}()
		if retryConflict(ctx, err, attempt) {
			continue
		}
		k.keysets.invalidate(name)
		return err
	}
}

// Refresh drops the cached keyset so that the next use reloads it, and
// reloads it now. Call it when another process changed the keyset and
// waiting for CacheMaxAge is too long.
func (k *Keyring) Refresh(ctx context.Context, name string) error {
	k.keysets.invalidate(name)
	_, err := k.load(ctx, "refresh", name)
	return err
}
