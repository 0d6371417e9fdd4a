package format

import (
	"fmt"
	"time"

	"github.com/piiguard/piiguard"
)

// Keyset is the JSON form of a kms.KeysetRecord, shared by FileStore's
// keyset files and the backup format. Field names are part of those wire
// formats: never rename one.
type Keyset struct {
	Name            string    `json:"name"`
	Purpose         string    `json:"purpose"`
	Revision        int64     `json:"revision,omitempty"`
	RootKey         string    `json:"root_key"`
	WrappedDataKey  []byte    `json:"wrapped_data_key"`
	EncryptedKeyset []byte    `json:"encrypted_keyset"`
	Versions        []Version `json:"versions"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
}

// Version is the JSON form of a kms.VersionRecord.
type Version struct {
	ID      uint32    `json:"id"`
	Number  int       `json:"number"`
	Status  string    `json:"status"`
	Primary bool      `json:"primary,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Canary  []byte    `json:"canary,omitempty"`
}

// Purposes are the values of a keyset's "purpose" (kms.Purpose), and
// Statuses those of a version's "status" (kms.Status). Package kms checks
// that its constants are these.
var (
	Purposes = []string{"aead", "prf", "daead", "mac", "signature"}
	Statuses = []string{"enabled", "disabled", "destroyed"}
)

// CheckPurpose returns nil for a known purpose, else an error wrapping
// kms.ErrInvalidArgument.
func CheckPurpose(p string) error {
	for _, q := range Purposes {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown purpose %q", piiguard.ErrInvalidArgument, p)
}

// ValidName checks a keyset name: 1–128 characters of [A-Za-z0-9._-]. The
// error wraps kms.ErrInvalidArgument.
func ValidName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%w: keyset name must be 1 to 128 characters", piiguard.ErrInvalidArgument)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: keyset name has a character outside [A-Za-z0-9._-] at byte %d", piiguard.ErrInvalidArgument, i)
		}
	}
	return nil
}

// Validate checks the structure of a decoded record: a valid name and
// purpose, key material present, versions numbered, exactly one primary,
// and statuses known. The caller says what a failure is (kms.ErrCorrupt
// for what it read, kms.ErrInvalidArgument for what it was asked to
// write).
func (j Keyset) Validate() error {
	if err := ValidName(j.Name); err != nil {
		return err
	}
	if err := CheckPurpose(j.Purpose); err != nil {
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
		case "enabled", "disabled", "destroyed":
		default:
			return fmt.Errorf("keyset %q: version %d has unknown status %q", j.Name, v.Number, v.Status)
		}
		if v.Primary {
			primaries++
			if v.Status != "enabled" {
				return fmt.Errorf("keyset %q: primary version %d is %s", j.Name, v.Number, v.Status)
			}
		}
	}
	if primaries != 1 {
		return fmt.Errorf("keyset %q: %d primary versions", j.Name, primaries)
	}
	return nil
}
