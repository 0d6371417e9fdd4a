package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/piiguard/piiguard/kms/internal/format"
)

// The manifest ties a key store to its root key and remembers its keysets
// (see Manifest). The keyring consults it on the cold, administrative
// paths only — creating a keyset, restoring, rewrapping, verifying — never
// when it opens a keyset that exists.

// manifestCheckInput is the public value whose wrap under the root key is the
// manifest's RootCheck; manifestCheckAD binds that wrap to its use.
var (
	manifestCheckInput = []byte("piiguard kms store manifest check v1")
	manifestCheckAD    = []byte("piiguard.manifest.v1")
)

// manifest reads the store's manifest; nil (and no error) when it has none.
func (k *Keyring) manifest(ctx context.Context) (*Manifest, error) {
	m, err := k.store.GetManifest(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: key store: %w", ErrCorrupt, err)
	}
	return m, nil
}

// rootByName returns the root key the keyring knows under name, or nil.
func (k *Keyring) rootByName(name string) *RootKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.roots[name]
}

// checkManifestRoot proves that the keyring holds the root key the store was
// made under: the root key the manifest names (or, when the keyring knows
// none by that name, its current one, as rootFor does for keysets) must
// unwrap the manifest's check value. One that cannot is ErrWrongRootKey.
func (k *Keyring) checkManifestRoot(ctx context.Context, m *Manifest) error {
	root := k.rootByName(m.RootKey)
	if root == nil {
		root = k.currentRoot()
	}
	pt, err := root.Unwrap(ctx, m.RootCheck, manifestCheckAD)
	if err != nil {
		if errors.Is(err, ErrInvalidCiphertext) {
			return fmt.Errorf("%w: the key store was made under root key %q, and root key %q is another key (a new key file in the old one's place?); use the store's own root key, restored from its backup if it is lost",
				ErrWrongRootKey, m.RootKey, root.Name())
		}
		return fmt.Errorf("checking the root key against the key store's manifest: %w", err)
	}
	clear(pt)
	return nil
}

// newManifest returns a manifest under the current root key, listing no
// keyset yet.
func (k *Keyring) newManifest(ctx context.Context) (*Manifest, error) {
	root := k.currentRoot()
	check, err := root.Wrap(ctx, manifestCheckInput, manifestCheckAD)
	if err != nil {
		return nil, err
	}
	now := nowUTC(k.now)
	return &Manifest{RootKey: root.Name(), RootCheck: check, Created: now, Updated: now}, nil
}

// beforeCreate is the manifest's say before a new keyset called name is
// written: it refuses a name the store has held (ErrKeysMissing) and a root
// key the store was not made under (ErrWrongRootKey).
func (k *Keyring) beforeCreate(ctx context.Context, name string) error {
	m, err := k.manifest(ctx)
	if err != nil {
		return err
	}
	if m == nil {
		// No manifest yet: a new store, or one from before manifests, which
		// the manifest written after the keyset (noteKeysets) adopts. A
		// store is never adopted by a root key it was not made under: the
		// root key must open what the store holds.
		recs, err := k.store.ListKeysets(ctx)
		if err != nil || len(recs) == 0 {
			return err
		}
		rec := recs[0]
		dk, err := unwrapDataKey(ctx, k.rootFor(rec), rec)
		if errors.Is(err, ErrInvalidCiphertext) {
			return fmt.Errorf("%w: root key %q cannot open keyset %q, which the key store holds; restore the store's own root key from its backup", ErrWrongRootKey, k.rootFor(rec).Name(), rec.Name)
		}
		clear(dk)
		return err
	}
	if _, held := slices.BinarySearch(m.Keysets, name); held {
		if _, err := k.store.GetKeyset(ctx, name); err == nil {
			return fmt.Errorf("%w: keyset %q", ErrAlreadyExists, name)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("%w: the key store held this keyset and no longer does, so what it sealed opens with it only; restore the key store from a backup (piiguard keys restore) rather than making a new one", ErrKeysMissing)
	}
	return k.checkManifestRoot(ctx, m)
}

// noteKeysets records in the manifest every keyset the store holds, names
// given included, creating the manifest when the store has none. It is
// called after keysets were written, so that a crash in between leaves a
// keyset the manifest does not list yet (the next call adds it), never a
// name listed without its keyset.
func (k *Keyring) noteKeysets(ctx context.Context, names ...string) error {
	return k.updateManifest(ctx, func(m *Manifest) error {
		recs, err := k.store.ListKeysets(ctx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			names = append(names, r.Name)
		}
		m.Keysets = append(m.Keysets, names...)
		slices.Sort(m.Keysets)
		m.Keysets = slices.Compact(m.Keysets)
		return nil
	})
}

// updateManifest applies change to the store's manifest (a new one when the
// store has none) as a compare-and-swap, retrying on conflict with fresh
// state.
func (k *Keyring) updateManifest(ctx context.Context, change func(*Manifest) error) error {
	for attempt := 0; ; attempt++ {
		m, err := k.manifest(ctx)
		if err == nil && m == nil {
			m, err = k.newManifest(ctx)
		}
		if err == nil {
			err = change(m)
		}
		if err == nil {
			m.Updated = nowUTC(k.now)
			err = k.store.PutManifest(ctx, m)
			if errors.Is(err, ErrAlreadyExists) {
				err = fmt.Errorf("%w: %w", ErrConflict, err)
			}
		}
		if retryConflict(ctx, err, attempt) {
			continue
		}
		if err != nil {
			return fmt.Errorf("updating the key store's manifest: %w", err)
		}
		return nil
	}
}

// rewrapManifest moves the manifest's root check to the root key to.
func (k *Keyring) rewrapManifest(ctx context.Context, to *RootKey) error {
	return k.updateManifest(ctx, func(m *Manifest) error {
		if m.RootKey == to.Name() {
			return nil
		}
		check, err := to.Wrap(ctx, manifestCheckInput, manifestCheckAD)
		if err != nil {
			return err
		}
		m.RootKey, m.RootCheck = to.Name(), check
		return nil
	})
}

// missing returns the names m lists that recs lacks.
func (m *Manifest) missing(recs []*KeysetRecord) []string {
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[r.Name] = true
	}
	var out []string
	for _, n := range m.Keysets {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}

// explainUnwrapFailure turns a keyset that does not unwrap into
// ErrWrongRootKey when the store's manifest shows that the keyring's root
// key is not the store's: the message then says what happened and what to
// do, not only that a ciphertext did not open. It costs a manifest read and
// an unwrap, on a failure only; other errors are returned as they are.
func (k *Keyring) explainUnwrapFailure(ctx context.Context, err error) error {
	if !errors.Is(err, ErrInvalidCiphertext) {
		return err
	}
	m, merr := k.manifest(ctx)
	if merr != nil || m == nil {
		return err
	}
	if rerr := k.checkManifestRoot(ctx, m); errors.Is(rerr, ErrWrongRootKey) {
		return rerr
	}
	return err
}

// validate checks the structure of a manifest: a root key and its check,
// and valid keyset names, sorted, without duplicates.
func (m *Manifest) validate() error {
	return format.ValidateManifest(m.RootKey, m.RootCheck, m.Keysets)
}
