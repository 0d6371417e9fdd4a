package kms

import (
	"context"
	"fmt"
	"io"

	"github.com/piiguard/piiguard/audit"
)

// VersionCheck is the result of verifying one key version.
type VersionCheck struct {
	Keyset string
	KeyID  uint32
	Number int
	Status Status
	// Err is nil when the version opened its canary; it is set for a
	// version that did not, and for a keyset that could not be unwrapped at
	// all (then KeyID is 0).
	Err error
}

// VerifyReport lists what Verify checked.
type VerifyReport struct {
	Keysets  int            // keysets unwrapped
	Checked  int            // versions whose canary was checked
	Skipped  int            // destroyed versions, which cannot be checked
	Failures []VersionCheck // what did not verify
	Results  []VersionCheck // every version, in order
	// Missing names the keysets the store's manifest lists and the store
	// no longer holds (each is also a failure, wrapping ErrKeysMissing).
	Missing []string
}

// OK reports whether every keyset unwrapped and every version verified.
func (r *VerifyReport) OK() bool { return len(r.Failures) == 0 }

// Verify is the recovery drill: for every keyset in the store it unwraps the
// data key with the root key, decrypts the keyset, and exercises every
// version that is not destroyed (disabled ones included) on its canary. A
// keyset the store's manifest lists and the store lost is a failure too. It
// returns a report, and an error wrapping ErrVerification if anything
// failed.
func (a *Admin) Verify(ctx context.Context) (*VerifyReport, error) {
	k := a.k
	rep, err := func() (*VerifyReport, error) {
		if err := k.check("verify", ""); err != nil {
			return nil, err
		}
		recs, err := k.store.ListKeysets(ctx)
		if err != nil {
			return nil, err
		}
		m, err := k.manifest(ctx)
		if err != nil {
			return nil, err
		}
		var missing []string
		if m != nil {
			missing = m.missing(recs)
		}
		return a.verify(ctx, recs, missing)
	}()
	return rep, k.finish(ctx, audit.ActionKeyVerify, "verify", "*", 0, err)
}

// VerifyBackup runs the recovery drill of Verify on a backup instead of the
// store: it proves that the backup can be restored and used with the
// keyring's root keys.
func (a *Admin) VerifyBackup(ctx context.Context, r io.Reader, name string) (*VerifyReport, error) {
	k := a.k
	rep, err := func() (*VerifyReport, error) {
		if err := k.check("verify backup", ""); err != nil {
			return nil, err
		}
		keysets, err := readBackup(r, name)
		if err != nil {
			return nil, err
		}
		return a.verify(ctx, keysets, nil)
	}()
	return rep, k.finish(ctx, audit.ActionKeyVerify, "verify backup", "*", 0, err)
}

func (a *Admin) verify(ctx context.Context, recs []*KeysetRecord, missing []string) (*VerifyReport, error) {
	k := a.k
	rep := &VerifyReport{Missing: missing}
	for _, name := range missing {
		c := VersionCheck{Keyset: name, Err: fmt.Errorf("%w: the key store held this keyset and no longer does", ErrKeysMissing)}
		rep.Failures = append(rep.Failures, c)
		rep.Results = append(rep.Results, c)
	}
	for _, rec := range recs {
		h, err := openKeyset(ctx, k.rootFor(rec), rec)
		if err != nil {
			if ctx.Err() != nil {
				return rep, err
			}
			c := VersionCheck{Keyset: rec.Name, Err: err}
			rep.Failures = append(rep.Failures, c)
			rep.Results = append(rep.Results, c)
			continue
		}
		rep.Keysets++
		for _, v := range rec.Versions {
			c := VersionCheck{Keyset: rec.Name, KeyID: v.ID, Number: v.Number, Status: v.Status}
			if v.Status == StatusDestroyed {
				rep.Skipped++
				rep.Results = append(rep.Results, c)
				continue
			}
			rep.Checked++
			if err := checkCanary(h, rec.Purpose, v.ID, v.Canary); err != nil {
				c.Err = fmt.Errorf("%w: %w", ErrVerification, err)
				rep.Failures = append(rep.Failures, c)
			}
			rep.Results = append(rep.Results, c)
		}
	}
	if !rep.OK() {
		f := rep.Failures[0]
		what := fmt.Sprintf("keyset %q", f.Keyset)
		if f.KeyID != 0 {
			what += fmt.Sprintf(" key ID %d", f.KeyID)
		}
		failures := "1 failure"
		if n := len(rep.Failures); n != 1 {
			failures = fmt.Sprintf("%d failures", n)
		}
		return rep, fmt.Errorf("%w: %s; first: %s: %w", ErrVerification, failures, what, f.Err)
	}
	return rep, nil
}
