package kms

import (
	"bytes"
	"context"
	"fmt"

	"github.com/piiguard/piiguard/audit"
)

// Rewrap moves every keyset from the keyring's root key to another: each
// keyset's data key is unwrapped with the current root and wrapped with to;
// the keysets themselves, and all data, are untouched. This is how a
// deployment migrates between backends (local → AWS KMS, AWS → HSM) or
// replaces a root key. Keysets already wrapped by to are skipped, so a
// Rewrap that failed half way can simply be run again; until it completes,
// the keyring opens keysets under either root. On success the keyring uses
// to from then on. It returns the number of keysets rewrapped.
//
// The two root keys must have different names. Other processes sharing the
// store need to know to (KeyringOptions.AdditionalRoots) before Rewrap runs.
func (a *Admin) Rewrap(ctx context.Context, to *RootKey) (int, error) {
	k := a.k
	if to == nil {
		return 0, fmt.Errorf("kms: rewrap: %w: nil root key", ErrInvalidArgument)
	}
	if err := k.check("rewrap", "*"); err != nil {
		return 0, err
	}
	k.mu.Lock()
	if to.Name() == k.root.Name() {
		k.mu.Unlock()
		return 0, fmt.Errorf("kms: rewrap: %w: the new root key has the current one's name %q", ErrInvalidArgument, to.Name())
	}
	k.roots[to.Name()] = to
	k.mu.Unlock()

	recs, err := k.store.ListKeysets(ctx)
	if err != nil {
		return 0, fmt.Errorf("kms: rewrap: %w", err)
	}
	n := 0
	for _, r := range recs {
		done, err := a.rewrapOne(ctx, r.Name, to)
		if ferr := k.finish(ctx, audit.ActionKeyRewrap, "rewrap", r.Name, 0, err); ferr != nil {
			return n, fmt.Errorf("%w (%d keysets rewrapped before; run Rewrap again to finish)", ferr, n)
		}
		if done {
			n++
		}
	}
	// The manifest moves last and before the keyring lets go of the old
	// root key, so that a failure here is mended by running Rewrap again.
	if err := k.rewrapManifest(ctx, to); err != nil {
		return n, fmt.Errorf("kms: rewrap: %d keysets rewrapped, but %w (run Rewrap again to finish)", n, err)
	}
	k.mu.Lock()
	old := k.root
	k.root = to
	if !a.isAdditional(old) {
		delete(k.roots, old.Name())
	}
	k.mu.Unlock()
	k.keysets.purge()
	k.subjects.purge()
	return n, nil
}

func (a *Admin) isAdditional(r *RootKey) bool {
	k := a.k
	for _, a := range k.opts.AdditionalRoots {
		if a == r {
			return true
		}
	}
	return false
}

func (a *Admin) rewrapOne(ctx context.Context, name string, to *RootKey) (bool, error) {
	k := a.k
	for attempt := 0; ; attempt++ {
		stored, err := k.store.GetKeyset(ctx, name)
		if err != nil {
			return false, err
		}
		if stored.RootKey == to.Name() {
			return false, nil
		}
		rec := cloneRecord(stored)
		ad := keysetAD(rec.Name, rec.Purpose)
		dk, err := unwrapDataKey(ctx, k.rootFor(rec), rec)
		if err != nil {
			return false, err
		}
		err = func() error {
			defer clear(dk)
			// Prove the data key opens the keyset before moving it.
			if _, err := decryptKeyset(dk, rec); err != nil {
				return err
			}
			wrapped, err := to.Wrap(ctx, dk, ad)
			if err != nil {
				return err
			}
			back, err := to.Unwrap(ctx, wrapped, ad)
			if err != nil {
				return err
			}
			ok := bytes.Equal(back, dk)
			clear(back)
			if !ok {
				return fmt.Errorf("%w: the new root key does not give the data key back", ErrBackend)
			}
			rec.WrappedDataKey = wrapped
			rec.RootKey = to.Name()
			rec.Updated = nowUTC(k.now)
			return k.store.PutKeyset(ctx, rec)
		}()
		if retryConflict(ctx, err, attempt) {
			continue
		}
		k.keysets.invalidate(name)
		return err == nil, err
	}
}
