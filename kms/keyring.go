package kms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/piiguard/piiguard"
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

// Keyring is the data path over the named keysets of an application, kept
// encrypted in a Store under a root key: it hands out their primitives by
// name (AEAD, DeterministicAEAD, PRF, MAC, Signer, Verifier) and the
// subject keys of crypto-shredding (SubjectKey), unwrapped once and cached
// in memory.
//
// Getting a primitive is a map lookup once the keyset is cached; the root
// key's backend is only called on a miss, once per keyset however many
// goroutines miss at the same time. Administration — creating, rotating,
// disabling and destroying keysets, backups, the recovery drill, rewrap,
// destroying subject keys — is the job of an Admin (NewAdmin), which shares
// the keyring's cache: what it changes is dropped from the cache at once.
//
// A Keyring is safe for concurrent use, also by several processes sharing
// one Store.
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

// report sends a key event to the audit sink. A failed operation is
// reported with the class of its error; a sink failure is returned.
func (k *Keyring) report(ctx context.Context, e audit.Event, opErr error) error {
	e = audit.FromContext(ctx, e)
	e.Time = nowUTC(k.now)
	e.Outcome = audit.OutcomeSuccess
	if opErr != nil {
		e.Outcome = audit.OutcomeFailure
		e.Error = string(piiguard.ErrorCode(opErr))
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

// Refresh drops the cached keyset so that the next use reloads it, and
// reloads it now. Call it when another process changed the keyset and
// waiting for CacheMaxAge is too long.
func (k *Keyring) Refresh(ctx context.Context, name string) error {
	k.keysets.invalidate(name)
	_, err := k.load(ctx, "refresh", name)
	return err
}
