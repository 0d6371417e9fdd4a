// Package storekit is what the key stores of this module that keep records
// as Go values or JSON files (kms/filestore, kms/insecuremem) share: copies
// of records, the conversion of a keyset record to and from its wire form
// (kms/internal/format), and the compare-and-swap rule of a manifest
// write. Package kms has its own copies of the first two, since it cannot
// import this package (which imports it); tests on both sides pin that no
// field of a record is left out.
package storekit

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/format"
)

// CloneRecord returns a deep copy of rec, so that a stored record is never
// changed in place by a caller (kms.KeysetStore hands out copies).
func CloneRecord(rec *kms.KeysetRecord) *kms.KeysetRecord {
	c := *rec
	c.WrappedDataKey = bytes.Clone(rec.WrappedDataKey)
	c.EncryptedKeyset = bytes.Clone(rec.EncryptedKeyset)
	c.Versions = make([]kms.VersionRecord, len(rec.Versions))
	for i, v := range rec.Versions {
		v.Canary = bytes.Clone(v.Canary)
		c.Versions[i] = v
	}
	return &c
}

// CloneManifest returns a deep copy of m.
func CloneManifest(m *kms.Manifest) *kms.Manifest {
	c := *m
	c.RootCheck = slices.Clone(m.RootCheck)
	c.Keysets = slices.Clone(m.Keysets)
	return &c
}

// ToWire returns the JSON form of r.
func ToWire(r *kms.KeysetRecord) format.Keyset {
	j := format.Keyset{
		Name: r.Name, Purpose: string(r.Purpose), Revision: r.Revision, RootKey: r.RootKey,
		WrappedDataKey: r.WrappedDataKey, EncryptedKeyset: r.EncryptedKeyset,
		Created: r.Created, Updated: r.Updated,
		Versions: make([]format.Version, len(r.Versions)),
	}
	for i, v := range r.Versions {
		j.Versions[i] = format.Version{ID: v.ID, Number: v.Number, Status: string(v.Status), Primary: v.Primary, Created: v.Created, Updated: v.Updated, Canary: v.Canary}
	}
	return j
}

// FromWire returns the record j encodes.
func FromWire(j format.Keyset) *kms.KeysetRecord {
	r := &kms.KeysetRecord{
		Name: j.Name, Purpose: kms.Purpose(j.Purpose), Revision: j.Revision, RootKey: j.RootKey,
		WrappedDataKey: j.WrappedDataKey, EncryptedKeyset: j.EncryptedKeyset,
		Created: j.Created, Updated: j.Updated,
		Versions: make([]kms.VersionRecord, len(j.Versions)),
	}
	for i, v := range j.Versions {
		r.Versions[i] = kms.VersionRecord{ID: v.ID, Number: v.Number, Status: kms.Status(v.Status), Primary: v.Primary, Created: v.Created, Updated: v.Updated, Canary: v.Canary}
	}
	return r
}

// CheckManifestCAS checks a write of m over the stored manifest cur (nil:
// none) as kms.ManifestStore.PutManifest specifies: revision 0 only when
// there is none (else kms.ErrAlreadyExists), otherwise cur's revision
// (else kms.ErrConflict). Errors start with "manifest: ".
func CheckManifestCAS(cur, m *kms.Manifest) error {
	switch {
	case m.Revision == 0 && cur != nil:
		return fmt.Errorf("manifest: %w", kms.ErrAlreadyExists)
	case m.Revision != 0 && cur == nil:
		return fmt.Errorf("manifest: revision %d of a manifest that does not exist: %w", m.Revision, kms.ErrConflict)
	case cur != nil && cur.Revision != m.Revision:
		return fmt.Errorf("manifest: revision %d is stale: %w", m.Revision, kms.ErrConflict)
	}
	return nil
}
