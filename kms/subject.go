package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// subjectKey is a subject's unwrapped key as the cache holds it.
type subjectKey struct {
	aead tink.AEAD
}

// subjectAD binds a subject key's ciphertext to the subject ID: a key
// record copied to another subject does not open.
func subjectAD(subjectID string) []byte {
	return []byte("piiguard.subject.v1\x00" + subjectID)
}

// validSubjectID checks a subject ID: 1–256 bytes of UTF-8 without control
// characters.
func validSubjectID(id string) error {
	if id == "" || len(id) > 256 {
		return fmt.Errorf("%w: subject ID must be 1 to 256 bytes", ErrInvalidArgument)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: subject ID is not valid UTF-8", ErrInvalidArgument)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: subject ID holds a control character", ErrInvalidArgument)
		}
	}
	return nil
}

// subjectErr returns err as a *KeyError about a subject key, unless it is
// one already. op is the bare operation ("get", "destroy"): KeyError.Error
// adds "subject key" after it.
func subjectErr(op, subjectID string, err error) error {
	var ke *KeyError
	if errors.As(err, &ke) {
		return err
	}
	return &KeyError{Op: op, Keyset: subjectID, Subject: true, Err: err}
}

// SubjectKey returns the AEAD of one data subject (a customer), creating the
// subject's key on first use. Encrypt what belongs to the subject with it:
// DestroySubjectKey then makes all of it unreadable at once, wherever copies
// of the ciphertext are (crypto-shredding).
//
// The subject key is a Tink AES-256-GCM keyset of its own, stored in the
// key store encrypted by the keyset named in KeyringOptions.SubjectKeyset
// and bound to the subject ID. Lookups are by subject ID; the cache keeps up
// to SubjectCacheMaxEntries keys unwrapped.
//
// A destroyed subject key is never recreated: SubjectKey then fails with an
// error wrapping ErrDestroyed.
func (k *Keyring) SubjectKey(ctx context.Context, subjectID string) (tink.AEAD, error) {
	const op = "get"
	if err := validSubjectID(subjectID); err != nil {
		return nil, subjectErr(op, "", err)
	}
	if k.closed.Load() {
		// Not k.check: its KeyError would print the subject ID.
		return nil, subjectErr(op, subjectID, ErrClosed)
	}
	if sk, ok := k.subjects.fresh(subjectID); ok {
		return sk.aead, nil
	}
	created := false
	sk, err := k.subjects.get(ctx, subjectID, func(ctx context.Context) (*subjectKey, error) {
		sk, c, err := k.loadSubject(ctx, subjectID)
		created = c
		return sk, err
	})
	if created {
		if aerr := k.report(ctx, audit.Event{Action: audit.ActionSubjectKeyCreate, SubjectID: subjectID}, err); aerr != nil && err == nil {
			err = fmt.Errorf("created, but the audit event was not recorded: %w", aerr)
		}
	}
	if err != nil {
		return nil, subjectErr(op, subjectID, err)
	}
	return sk.aead, nil
}

// loadSubject reads the subject's key, or creates it if the subject has
// none. It reports whether it created the key.
func (k *Keyring) loadSubject(ctx context.Context, subjectID string) (*subjectKey, bool, error) {
	for attempt := 0; attempt < 3; attempt++ {
		rec, err := k.store.GetSubjectKey(ctx, subjectID)
		switch {
		case err == nil:
			sk, err := k.openSubject(ctx, rec)
			return sk, false, err
		case !errors.Is(err, ErrNotFound):
			return nil, false, err
		}
		sk, err := k.createSubject(ctx, subjectID)
		if errors.Is(err, ErrAlreadyExists) {
			continue // another writer created it first: read theirs
		}
		return sk, err == nil, err
	}
	return nil, false, fmt.Errorf("%w: the stored record keeps changing", ErrConflict)
}

func (k *Keyring) openSubject(ctx context.Context, rec *SubjectKeyRecord) (*subjectKey, error) {
	if !rec.Destroyed.IsZero() {
		return nil, ErrDestroyed
	}
	wrapper, err := k.subjectWrapper(ctx, rec.Keyset)
	if err != nil {
		return nil, err
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(rec.EncryptedKey)), wrapper, subjectAD(rec.SubjectID))
	if err != nil {
		return nil, subjectOpenErr(err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	return &subjectKey{aead: a}, nil
}

func (k *Keyring) createSubject(ctx context.Context, subjectID string) (*subjectKey, error) {
	// The wrapping keyset is cached after the first subject; only the very
	// first one reaches Ensure.
	wrapper, err := k.subjectWrapper(ctx, k.opts.SubjectKeyset)
	if errors.Is(err, ErrNotFound) {
		if err := NewAdmin(k).Ensure(ctx, k.opts.SubjectKeyset, PurposeAEAD); err != nil {
			return nil, err
		}
		wrapper, err = k.subjectWrapper(ctx, k.opts.SubjectKeyset)
	}
	if err != nil {
		return nil, err
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), wrapper, subjectAD(subjectID)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	rec := &SubjectKeyRecord{
		SubjectID:    subjectID,
		Keyset:       k.opts.SubjectKeyset,
		EncryptedKey: buf.Bytes(),
		Created:      nowUTC(k.now),
	}
	if err := k.store.PutSubjectKey(ctx, rec); err != nil {
		return nil, err
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	return &subjectKey{aead: a}, nil
}

func (k *Keyring) subjectWrapper(ctx context.Context, keysetName string) (tink.AEAD, error) {
	ks, err := k.loadPurpose(ctx, keysetName, PurposeAEAD)
	if err != nil {
		return nil, err
	}
	return keyringAEAD{ks}, nil
}
