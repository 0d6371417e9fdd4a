package kms

import (
	"io"
	"time"

	"github.com/piiguard/piiguard/kms/internal/format"
)

// The wire formats of keysets and backups are defined in
// kms/internal/format, below this package, so that kms/filestore shares
// them; this file converts records to and from them.

// toWire returns the JSON form of r.
func toWire(r *KeysetRecord) format.Keyset {
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

// fromWire returns the record j encodes.
func fromWire(j format.Keyset) *KeysetRecord {
	r := &KeysetRecord{
		Name: j.Name, Purpose: Purpose(j.Purpose), Revision: j.Revision, RootKey: j.RootKey,
		WrappedDataKey: j.WrappedDataKey, EncryptedKeyset: j.EncryptedKeyset,
		Created: j.Created, Updated: j.Updated,
		Versions: make([]VersionRecord, len(j.Versions)),
	}
	for i, v := range j.Versions {
		r.Versions[i] = VersionRecord{ID: v.ID, Number: v.Number, Status: Status(v.Status), Primary: v.Primary, Created: v.Created, Updated: v.Updated, Canary: v.Canary}
	}
	return r
}

// writeBackup writes recs to w in the backup format.
func writeBackup(w io.Writer, created time.Time, recs []*KeysetRecord) error {
	keysets := make([]format.Keyset, len(recs))
	for i, r := range recs {
		keysets[i] = toWire(r)
	}
	return format.WriteBackup(w, created, keysets)
}

// readBackup reads the keysets of a backup (without revisions); errors
// start with "backup NAME: " and wrap ErrCorrupt, ErrUnsupportedVersion
// or ErrUnavailable.
func readBackup(r io.Reader, name string) ([]*KeysetRecord, error) {
	b, err := format.ReadBackup(r, name)
	if err != nil {
		return nil, err
	}
	recs := make([]*KeysetRecord, len(b.Keysets))
	for i, j := range b.Keysets {
		recs[i] = fromWire(j)
	}
	return recs, nil
}

// validName checks a keyset name: 1–128 characters of [A-Za-z0-9._-].
func validName(name string) error { return format.ValidName(name) }
