package kms

import (
	"context"
	"fmt"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/piiguard/piiguard/audit"
)

// Rotate adds a new version to the keyset and makes it the primary: from
// now on it encrypts (or computes), while the older versions keep
// decrypting until they are disabled or destroyed.
//
// Other processes sharing the store see the new version when their cache
// entry expires (KeyringOptions.CacheMaxAge) or on Refresh. In a fleet,
// prefer AddVersion, wait for CacheMaxAge, then Promote: every process can
// then read what the new primary writes from the first ciphertext.
func (a *Admin) Rotate(ctx context.Context, name string) (VersionRecord, error) {
	k := a.k
	v, err := a.addVersion(ctx, "rotate", name, true)
	return v, k.finish(ctx, audit.ActionKeyRotate, "rotate", name, v.ID, err)
}

// AddVersion adds a new enabled version that is not yet primary (the first
// half of a fleet-safe rotation; see Rotate).
func (a *Admin) AddVersion(ctx context.Context, name string) (VersionRecord, error) {
	k := a.k
	v, err := a.addVersion(ctx, "add version", name, false)
	return v, k.finish(ctx, audit.ActionKeyRotate, "add version", name, v.ID, err)
}

func (a *Admin) addVersion(ctx context.Context, op, name string, primary bool) (VersionRecord, error) {
	k := a.k
	var out VersionRecord
	err := a.modify(ctx, op, name, func(rec *KeysetRecord, m *keyset.Manager) error {
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
func (a *Admin) Promote(ctx context.Context, name string, keyID uint32) error {
	k := a.k
	err := a.modify(ctx, "promote", name, func(rec *KeysetRecord, m *keyset.Manager) error {
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
func (a *Admin) Disable(ctx context.Context, name string, keyID uint32) error {
	k := a.k
	err := a.setStatus(ctx, "disable", name, keyID, StatusDisabled)
	return k.finish(ctx, audit.ActionKeyDisable, "disable", name, keyID, err)
}

// Enable lets a disabled version decrypt again.
func (a *Admin) Enable(ctx context.Context, name string, keyID uint32) error {
	k := a.k
	err := a.setStatus(ctx, "enable", name, keyID, StatusEnabled)
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
func (a *Admin) Destroy(ctx context.Context, name string, keyID uint32) error {
	k := a.k
	var err error
	if name == k.opts.SubjectKeyset {
		err = k.check("destroy", name)
		if err == nil {
			var n int
			n, err = a.subjectKeysWrappedBy(ctx, name, keyID)
			if err == nil && n > 0 {
				err = fmt.Errorf("%w: version %d still wraps %d subject keys, which would all be erased with it; run RewrapSubjectKeys first", ErrInvalidArgument, keyID, n)
			}
		}
	}
	if err == nil {
		err = a.setStatus(ctx, "destroy", name, keyID, StatusDestroyed)
	}
	return k.finish(ctx, audit.ActionKeyDestroy, "destroy", name, keyID, err)
}

func (a *Admin) setStatus(ctx context.Context, op, name string, id uint32, to Status) error {
	k := a.k
	return a.modify(ctx, op, name, func(rec *KeysetRecord, m *keyset.Manager) error {
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

// modify applies change to the stored keyset as a compare-and-swap, retrying
// on conflict with fresh state. The keyset is re-encrypted under its
// existing data key, so a change costs one unwrap and no wrap.
func (a *Admin) modify(ctx context.Context, op, name string, change func(*KeysetRecord, *keyset.Manager) error) error {
	k := a.k
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
