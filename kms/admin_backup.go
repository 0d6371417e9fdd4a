package kms

import (
	"context"
	"fmt"
	"io"

	"github.com/piiguard/piiguard/audit"
)

// Backup writes every keyset of the store, still wrapped by its root key,
// with its metadata, into one backup file (the format is described in the
// package documentation), and returns the number of keysets written.
// Subject keys are not included: they are the unit of erasure, and a
// backup that held them would bring erased subjects back on restore.
func (a *Admin) Backup(ctx context.Context, w io.Writer) (int, error) {
	k := a.k
	n, err := func() (int, error) {
		if err := k.check("backup", ""); err != nil {
			return 0, err
		}
		recs, err := k.store.ListKeysets(ctx)
		if err != nil {
			return 0, err
		}
		return len(recs), writeBackup(w, nowUTC(k.now), recs)
	}()
	if err != nil {
		n = 0
	}
	return n, k.finish(ctx, audit.ActionKeyBackup, "backup", "*", 0, err)
}

// keysetDeleter is implemented by stores that can remove a keyset; Restore
// uses it to undo a restore that failed half way.
type keysetDeleter interface {
	DeleteKeyset(ctx context.Context, name string) error
}

// Restore reads a backup and writes its keysets into the keyring's store,
// which must hold no keyset (ErrNotEmpty otherwise). A store that lost its
// keysets but kept its manifest is restored into, once the keyring's root
// key proves to be the store's (ErrWrongRootKey otherwise); the manifest
// then lists the restored keysets too. The backup is read and
// checked whole before anything is written; if a write fails, the keysets
// already written are removed again when the store can (it has a
// DeleteKeyset method, as the stores of this module do), so that no
// partial restore is left. It
// returns the number of keysets restored. Run Verify afterwards.
func (a *Admin) Restore(ctx context.Context, r io.Reader, name string) (int, error) {
	k := a.k
	n, err := a.restore(ctx, r, name)
	return n, k.finish(ctx, audit.ActionKeyRestore, "restore", "*", 0, err)
}

func (a *Admin) restore(ctx context.Context, r io.Reader, name string) (int, error) {
	k := a.k
	if err := k.check("restore", ""); err != nil {
		return 0, err
	}
	keysets, err := readBackup(r, name)
	if err != nil {
		return 0, err
	}
	existing, err := k.store.ListKeysets(ctx)
	if err != nil {
		return 0, err
	}
	if len(existing) > 0 {
		return 0, fmt.Errorf("%w: it holds %d keysets", ErrNotEmpty, len(existing))
	}
	// A store whose keysets went missing keeps its manifest: it must be
	// this root key's store.
	if m, err := k.manifest(ctx); err != nil {
		return 0, err
	} else if m != nil {
		if err := k.checkManifestRoot(ctx, m); err != nil {
			return 0, err
		}
	}
	for i, rec := range keysets {
		if err := k.store.PutKeyset(ctx, rec); err != nil {
			if d, ok := k.store.(keysetDeleter); ok {
				for _, done := range keysets[:i] {
					if derr := d.DeleteKeyset(context.WithoutCancel(ctx), done.Name); derr != nil {
						return 0, fmt.Errorf("restore of keyset %q failed (%w) and undoing keyset %q failed too: %w", rec.Name, err, done.Name, derr)
					}
				}
				return 0, fmt.Errorf("restore of keyset %q failed, nothing restored: %w", rec.Name, err)
			}
			return i, fmt.Errorf("restore of keyset %q failed after %d keysets: %w", rec.Name, i, err)
		}
	}
	k.keysets.purge()
	names := make([]string, len(keysets))
	for i, rec := range keysets {
		names[i] = rec.Name
	}
	if err := k.noteKeysets(ctx, names...); err != nil {
		return len(keysets), fmt.Errorf("keysets restored, but %w", err)
	}
	return len(keysets), nil
}
