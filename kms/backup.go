package kms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/piiguard/piiguard/audit"
)

// Backup file format, version 1 (pinned by kms/testdata/backup-v1.json):
//
//	{
//	  "format":   "piiguard.keybackup",
//	  "version":  1,
//	  "created":  RFC 3339 time,
//	  "keysets":  [ keyset, … ]   sorted by name; the FileStore keyset
//	                             object without "revision"
//	  "checksum": "sha256:" + hex SHA-256 of the compact JSON of "keysets"
//	}
//
// Key material stays wrapped: a backup holds each keyset's data key wrapped
// by the root key and the keyset encrypted under it, so a backup is useless
// without the root key. The checksum catches truncation and accidental
// corruption; deliberate tampering is caught by the AEAD that protects each
// keyset (Verify). Readers refuse unknown fields, a newer version
// (ErrUnsupportedVersion) and anything malformed (ErrCorrupt).
const (
	backupFormat  = "piiguard.keybackup"
	backupVersion = 1
	// maxBackupSize bounds what ReadBackup reads, so that a hostile file
	// cannot exhaust memory.
	maxBackupSize = 64 << 20
)

type backupJSON struct {
	Format   string       `json:"format"`
	Version  int          `json:"version"`
	Created  time.Time    `json:"created"`
	Keysets  []keysetJSON `json:"keysets"`
	Checksum string       `json:"checksum"`
}

// BackupFile is a decoded key backup.
type BackupFile struct {
	Created time.Time
	Keysets []*KeysetRecord
}

func backupChecksum(keysets []keysetJSON) (string, error) {
	b, err := json.Marshal(keysets)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// WriteBackup writes keysets to w in the backup format.
func WriteBackup(w io.Writer, created time.Time, keysets []*KeysetRecord) error {
	b := backupJSON{Format: backupFormat, Version: backupVersion, Created: created.UTC(), Keysets: make([]keysetJSON, len(keysets))}
	for i, r := range keysets {
		j := toKeysetJSON(r)
		j.Revision = 0
		b.Keysets[i] = j
	}
	var err error
	if b.Checksum, err = backupChecksum(b.Keysets); err != nil {
		return fmt.Errorf("kms: write backup: %w: %w", ErrBackend, err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("kms: write backup: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// ReadBackup decodes a backup. name identifies the source (a file path) in
// errors. A truncated or malformed backup is an error wrapping ErrCorrupt; a
// backup from a newer version of piiguard wraps ErrUnsupportedVersion.
func ReadBackup(r io.Reader, name string) (*BackupFile, error) {
	b, err := readBackup(r, name)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	return b, nil
}

// readBackup is ReadBackup with errors that do not start with "kms: ", for
// the keyring's operations, whose KeyError says it.
func readBackup(r io.Reader, name string) (*BackupFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBackupSize+1))
	if err != nil {
		return nil, fmt.Errorf("backup %q: %w: %w", name, ErrUnavailable, err)
	}
	if len(data) > maxBackupSize {
		return nil, fmt.Errorf("backup %q: %w: larger than %d bytes", name, ErrCorrupt, maxBackupSize)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("backup %q: %w: %s", name, ErrCorrupt, jsonProblem(err))
	}
	if head.Format != backupFormat {
		return nil, fmt.Errorf("backup %q: %w: not a piiguard key backup", name, ErrCorrupt)
	}
	if head.Version > backupVersion {
		return nil, fmt.Errorf("backup %q: %w: version %d (this piiguard reads up to %d)", name, ErrUnsupportedVersion, head.Version, backupVersion)
	}
	if head.Version < 1 {
		return nil, fmt.Errorf("backup %q: %w: version %d", name, ErrCorrupt, head.Version)
	}
	var b backupJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("backup %q: %w: %s", name, ErrCorrupt, jsonProblem(err))
	}
	sum, err := backupChecksum(b.Keysets)
	if err != nil || sum != b.Checksum {
		return nil, fmt.Errorf("backup %q: %w: checksum does not match", name, ErrCorrupt)
	}
	out := &BackupFile{Created: b.Created}
	seen := map[string]bool{}
	for _, j := range b.Keysets {
		if err := j.validate(); err != nil {
			return nil, fmt.Errorf("backup %q: %w: %w", name, ErrCorrupt, err)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("backup %q: %w: keyset %q appears twice", name, ErrCorrupt, j.Name)
		}
		seen[j.Name] = true
		rec := j.record()
		rec.Revision = 0
		out.Keysets = append(out.Keysets, rec)
	}
	return out, nil
}

// jsonProblem describes a JSON decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected end of JSON input":
		return "truncated"
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + s
	}
	return "malformed JSON"
}

// Backup writes every keyset of the store, still wrapped by its root key,
// with its metadata, into one backup file. Subject keys are not included:
// they are the unit of erasure, and a backup that held them would bring
// erased subjects back on restore.
func (k *Keyring) Backup(ctx context.Context, w io.Writer) error {
	err := func() error {
		if err := k.check("backup", ""); err != nil {
			return err
		}
		recs, err := k.store.ListKeysets(ctx)
		if err != nil {
			return err
		}
		return WriteBackup(w, nowUTC(k.now), recs)
	}()
	return k.finish(ctx, audit.ActionKeyBackup, "backup", "*", 0, err)
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
// already written are removed again when the store can (FileStore,
// MemoryStore and sqlstore can), so that no partial restore is left. It
// returns the number of keysets restored. Run Verify afterwards.
func (k *Keyring) Restore(ctx context.Context, r io.Reader, name string) (int, error) {
	n, err := k.restore(ctx, r, name)
	return n, k.finish(ctx, audit.ActionKeyRestore, "restore", "*", 0, err)
}

func (k *Keyring) restore(ctx context.Context, r io.Reader, name string) (int, error) {
	if err := k.check("restore", ""); err != nil {
		return 0, err
	}
	b, err := readBackup(r, name)
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
	for i, rec := range b.Keysets {
		if err := k.store.PutKeyset(ctx, rec); err != nil {
			if d, ok := k.store.(keysetDeleter); ok {
				for _, done := range b.Keysets[:i] {
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
	names := make([]string, len(b.Keysets))
	for i, rec := range b.Keysets {
		names[i] = rec.Name
	}
	if err := k.noteKeysets(ctx, names...); err != nil {
		return len(b.Keysets), fmt.Errorf("keysets restored, but %w", err)
	}
	return len(b.Keysets), nil
}

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
func (k *Keyring) Verify(ctx context.Context) (*VerifyReport, error) {
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
		return k.verify(ctx, recs, missing)
	}()
	return rep, k.finish(ctx, audit.ActionKeyVerify, "verify", "*", 0, err)
}

// VerifyBackup runs the recovery drill of Verify on a backup instead of the
// store: it proves that the backup can be restored and used with the
// keyring's root keys.
func (k *Keyring) VerifyBackup(ctx context.Context, r io.Reader, name string) (*VerifyReport, error) {
	rep, err := func() (*VerifyReport, error) {
		if err := k.check("verify backup", ""); err != nil {
			return nil, err
		}
		b, err := readBackup(r, name)
		if err != nil {
			return nil, err
		}
		return k.verify(ctx, b.Keysets, nil)
	}()
	return rep, k.finish(ctx, audit.ActionKeyVerify, "verify backup", "*", 0, err)
}

func (k *Keyring) verify(ctx context.Context, recs []*KeysetRecord, missing []string) (*VerifyReport, error) {
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
func (k *Keyring) Rewrap(ctx context.Context, to *RootKey) (int, error) {
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
		done, err := k.rewrapOne(ctx, r.Name, to)
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
	if !k.isAdditional(old) {
		delete(k.roots, old.Name())
	}
	k.mu.Unlock()
	k.keysets.purge()
	k.subjects.purge()
	return n, nil
}

func (k *Keyring) isAdditional(r *RootKey) bool {
	for _, a := range k.opts.AdditionalRoots {
		if a == r {
			return true
		}
	}
	return false
}

func (k *Keyring) rewrapOne(ctx context.Context, name string, to *RootKey) (bool, error) {
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
