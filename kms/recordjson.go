package kms

import (
	"fmt"
	"time"
)

// keysetJSON is the JSON form of a KeysetRecord, shared by FileStore and
// the backup format. Field names are part of those wire formats: never
// rename one.
type keysetJSON struct {
	Name            string        `json:"name"`
	Purpose         Purpose       `json:"purpose"`
	Revision        int64         `json:"revision,omitempty"`
	RootKey         string        `json:"root_key"`
	WrappedDataKey  []byte        `json:"wrapped_data_key"`
	EncryptedKeyset []byte        `json:"encrypted_keyset"`
	Versions        []versionJSON `json:"versions"`
	Created         time.Time     `json:"created"`
	Updated         time.Time     `json:"updated"`
}

type versionJSON struct {
	ID      uint32    `json:"id"`
	Number  int       `json:"number"`
	Status  Status    `json:"status"`
	Primary bool      `json:"primary,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Canary  []byte    `json:"canary,omitempty"`
}

func toKeysetJSON(r *KeysetRecord) keysetJSON {
	j := keysetJSON{
		Name: r.Name, Purpose: r.Purpose, Revision: r.Revision, RootKey: r.RootKey,
		WrappedDataKey: r.WrappedDataKey, EncryptedKeyset: r.EncryptedKeyset,
		Created: r.Created, Updated: r.Updated,
		Versions: make([]versionJSON, len(r.Versions)),
	}
	for i, v := range r.Versions {
		j.Versions[i] = versionJSON(v)
	}
	return j
}

func (j keysetJSON) record() *KeysetRecord {
	r := &KeysetRecord{
		Name: j.Name, Purpose: j.Purpose, Revision: j.Revision, RootKey: j.RootKey,
		WrappedDataKey: j.WrappedDataKey, EncryptedKeyset: j.EncryptedKeyset,
		Created: j.Created, Updated: j.Updated,
		Versions: make([]VersionRecord, len(j.Versions)),
	}
	for i, v := range j.Versions {
		r.Versions[i] = VersionRecord(v)
	}
	return r
}

// validate checks the structure of a decoded record: a valid name and
// purpose, key material present, versions numbered, exactly one primary,
// and statuses known.
func (j keysetJSON) validate() error {
	if err := validName(j.Name); err != nil {
		return err
	}
	if _, err := j.Purpose.template(); err != nil {
		return fmt.Errorf("keyset %q: %w", j.Name, err)
	}
	if len(j.WrappedDataKey) == 0 || len(j.EncryptedKeyset) == 0 {
		return fmt.Errorf("keyset %q: key material missing", j.Name)
	}
	primaries := 0
	seen := make(map[uint32]bool, len(j.Versions))
	for i, v := range j.Versions {
		if v.Number != i+1 {
			return fmt.Errorf("keyset %q: version %d is numbered %d", j.Name, i+1, v.Number)
		}
		if seen[v.ID] {
			return fmt.Errorf("keyset %q: key ID %d appears twice", j.Name, v.ID)
		}
		seen[v.ID] = true
		switch v.Status {
		case StatusEnabled, StatusDisabled, StatusDestroyed:
		default:
			return fmt.Errorf("keyset %q: version %d has unknown status %q", j.Name, v.Number, string(v.Status))
		}
		if v.Primary {
			primaries++
			if v.Status != StatusEnabled {
				return fmt.Errorf("keyset %q: primary version %d is %s", j.Name, v.Number, v.Status)
			}
		}
	}
	if primaries != 1 {
		return fmt.Errorf("keyset %q: %d primary versions", j.Name, primaries)
	}
	return nil
}
