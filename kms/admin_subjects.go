package kms

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/piiguard/piiguard/audit"
)

// DestroySubjectKey erases a data subject's key for good: everything
// encrypted with it — in the database, its replicas and its backups — can
// never be decrypted again. Only a tombstone stays in the store, so that the
// key is not silently recreated. Destroying a destroyed key is a no-op; a
// subject that never had a key is an ErrNotFound error.
//
// Other processes sharing the store may keep the key cached for up to
// KeyringOptions.SubjectCacheMaxAge. Subject keys are not part of Backup
// (see Backup), so no key backup brings a destroyed subject key back.
func (a *Admin) DestroySubjectKey(ctx context.Context, subjectID string) error {
	k := a.k
	const op = "destroy"
	if err := validSubjectID(subjectID); err != nil {
		return subjectErr(op, "", err)
	}
	if k.closed.Load() {
		return subjectErr(op, subjectID, ErrClosed)
	}
	err := k.store.DestroySubjectKey(ctx, subjectID, nowUTC(k.now))
	k.subjects.invalidate(subjectID)
	aerr := k.report(ctx, audit.Event{Action: audit.ActionSubjectKeyDestroy, SubjectID: subjectID}, err)
	if err != nil {
		return subjectErr(op, subjectID, err)
	}
	if aerr != nil {
		return subjectErr(op, subjectID, fmt.Errorf("done, but the audit event was not recorded: %w", aerr))
	}
	return nil
}

// subjectPageSize is how many subject keys a pass reads at a time.
const subjectPageSize = 256

// SubjectRewrapReport says what a RewrapSubjectKeys pass did.
type SubjectRewrapReport struct {
	// Checked counts the live subject keys the pass read.
	Checked int
	// Rewrapped counts those it re-encrypted under the subject keyset's
	// primary version (the others already were).
	Rewrapped int
	// Skipped counts those destroyed or changed by someone else while the
	// pass ran: a destroyed key is never brought back.
	Skipped int
}

// RewrapSubjectKeys re-encrypts every live subject key under the current
// primary version of the subject keyset (KeyringOptions.SubjectKeyset),
// including keys a previous configuration wrapped with another keyset. It
// is how a rotation of the subject keyset is finished: Rotate it, run
// RewrapSubjectKeys (in one process; it is safe to run again, and it
// resumes where it stopped), then Destroy the old versions — which Destroy
// allows only once no subject key depends on them. Old copies of the key
// store (its backups) keep the old wrapping, and with the old version
// destroyed, destroyed subjects' keys in them can no longer be opened.
//
// The subject keys themselves do not change, so nothing encrypted with
// them needs to be touched. Each key is replaced by a compare-and-swap, so
// a subject destroyed during the pass stays destroyed (it is counted as
// Skipped). The pass reads the keyset from the store first, to use the
// primary another process may have made. The store must implement
// SubjectKeyRewrapper (the stores of this module do);
// otherwise the call fails with ErrInvalidArgument. A key that cannot be
// opened (its wrapping version disabled, say) stops the pass with that
// error; the report counts what was done before it. One audit event
// (audit.ActionKeyRewrap) reports the pass.
func (a *Admin) RewrapSubjectKeys(ctx context.Context) (SubjectRewrapReport, error) {
	k := a.k
	const op = "rewrap subject keys"
	name := k.opts.SubjectKeyset
	var rep SubjectRewrapReport
	if err := k.check(op, name); err != nil {
		return rep, err
	}
	primary, err := a.rewrapSubjects(ctx, name, &rep)
	aerr := k.report(ctx, audit.Event{Action: audit.ActionKeyRewrap, KeyName: name, KeyID: primary,
		Reason: fmt.Sprintf("subject keys: %d checked, %d rewrapped, %d skipped", rep.Checked, rep.Rewrapped, rep.Skipped)}, err)
	switch {
	case err != nil:
		var ke *KeyError
		if errors.As(err, &ke) {
			return rep, err
		}
		return rep, keyErr(op, name, 0, err)
	case aerr != nil:
		return rep, keyErr(op, name, 0, fmt.Errorf("done, but the audit event was not recorded: %w", aerr))
	}
	return rep, nil
}

func (a *Admin) rewrapSubjects(ctx context.Context, name string, rep *SubjectRewrapReport) (uint32, error) {
	k := a.k
	rw, ok := k.store.(SubjectKeyRewrapper)
	if !ok {
		return 0, fmt.Errorf("%w: the key store cannot list subject keys (it does not implement kms.SubjectKeyRewrapper)", ErrInvalidArgument)
	}
	if err := k.Refresh(ctx, name); err != nil {
		return 0, err
	}
	ks, err := k.loadPurpose(ctx, name, PurposeAEAD)
	if err != nil {
		return 0, err
	}
	target := keyringAEAD{ks}
	err = eachSubjectKey(ctx, rw, func(rec *SubjectKeyRecord) error {
		rep.Checked++
		if rec.Keyset == name {
			if id, ok := subjectWrapKeyID(rec.EncryptedKey); ok && id == ks.primaryID {
				return nil
			}
		}
		wrapper, err := k.subjectWrapper(ctx, rec.Keyset)
		if err != nil {
			return err
		}
		ad := subjectAD(rec.SubjectID)
		h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(rec.EncryptedKey)), wrapper, ad)
		if err != nil {
			return subjectOpenErr(err)
		}
		var buf bytes.Buffer
		if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), target, ad); err != nil {
			return fmt.Errorf("%w: %w", ErrBackend, err)
		}
		next := *rec
		next.Keyset, next.EncryptedKey = name, buf.Bytes()
		switch err := rw.ReplaceSubjectKey(ctx, &next, rec.EncryptedKey); {
		case err == nil:
			rep.Rewrapped++
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			rep.Skipped++
		default:
			return err
		}
		return nil
	})
	return ks.primaryID, err
}

// eachSubjectKey calls f with every live subject key of the store, page by
// page, until f fails.
func eachSubjectKey(ctx context.Context, rw SubjectKeyRewrapper, f func(*SubjectKeyRecord) error) error {
	for cursor := ""; ; {
		page, next, err := rw.ListSubjectKeys(ctx, cursor, subjectPageSize)
		if err != nil {
			return err
		}
		for _, rec := range page {
			if err := f(rec); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// subjectOpenErr classifies a failure to decrypt a subject key record.
func subjectOpenErr(err error) error {
	var ke *KeyError
	if errors.As(err, &ke) {
		return ke.Err
	}
	return ErrInvalidCiphertext
}

// subjectWrapKeyID returns the ID of the keyset version that encrypted a
// subject key record (Tink's encrypted keyset, whose ciphertext starts with
// 0x01 and the key ID), or false if the record does not parse as one.
func subjectWrapKeyID(enc []byte) (uint32, bool) {
	var ek tinkpb.EncryptedKeyset
	if err := proto.Unmarshal(enc, &ek); err != nil {
		return 0, false
	}
	ct := ek.GetEncryptedKeyset()
	if len(ct) < 5 || ct[0] != 0x01 {
		return 0, false
	}
	return binary.BigEndian.Uint32(ct[1:5]), true
}

// subjectKeysWrappedBy counts the live subject keys that depend on version
// keyID of keyset name (a record that does not parse counts too). It fails
// with ErrInvalidArgument if the store cannot list subject keys.
func (a *Admin) subjectKeysWrappedBy(ctx context.Context, name string, keyID uint32) (int, error) {
	k := a.k
	rw, ok := k.store.(SubjectKeyRewrapper)
	if !ok {
		return 0, fmt.Errorf("%w: the key store cannot list subject keys, so whether version %d still wraps some cannot be checked", ErrInvalidArgument, keyID)
	}
	n := 0
	err := eachSubjectKey(ctx, rw, func(rec *SubjectKeyRecord) error {
		if rec.Keyset == name {
			if id, ok := subjectWrapKeyID(rec.EncryptedKey); !ok || id == keyID {
				n++
			}
		}
		return nil
	})
	return n, err
}
