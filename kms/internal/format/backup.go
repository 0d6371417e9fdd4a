package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/piiguard/piiguard"
)

// Backup file format, version 1 (pinned by kms/testdata/backup-v1.json):
//
//	{
//	  "format":   "piiguard.keybackup",
//	  "version":  1,
//	  "created":  RFC 3339 time,
//	  "keysets":  [ keyset, … ]   sorted by name; the FileStore keyset
//	                             object (Keyset) without "revision"
//	  "checksum": "sha256:" + hex SHA-256 of the compact JSON of "keysets"
//	}
//
// Key material stays wrapped: a backup holds each keyset's data key wrapped
// by the root key and the keyset encrypted under it, so a backup is useless
// without the root key. The checksum catches truncation and accidental
// corruption; deliberate tampering is caught by the AEAD that protects each
// keyset (kms.Admin.Verify). Readers refuse unknown fields, a newer version
// (ErrUnsupportedVersion) and anything malformed (ErrCorrupt).
const (
	backupFormat  = "piiguard.keybackup"
	backupVersion = 1
	// MaxBackupSize bounds what ReadBackup reads, so that a hostile file
	// cannot exhaust memory.
	MaxBackupSize = 64 << 20
)

type backupJSON struct {
	Format   string    `json:"format"`
	Version  int       `json:"version"`
	Created  time.Time `json:"created"`
	Keysets  []Keyset  `json:"keysets"`
	Checksum string    `json:"checksum"`
}

// Backup is a decoded key backup.
type Backup struct {
	Created time.Time
	Keysets []Keyset // Revision 0: a backup keeps none
}

func backupChecksum(keysets []Keyset) (string, error) {
	b, err := json.Marshal(keysets)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// WriteBackup writes keysets to w in the backup format, dated created,
// without their revisions. Errors start with "write backup: "; one from w
// wraps kms.ErrUnavailable.
func WriteBackup(w io.Writer, created time.Time, keysets []Keyset) error {
	b := backupJSON{Format: backupFormat, Version: backupVersion, Created: created.UTC(), Keysets: make([]Keyset, len(keysets))}
	for i, j := range keysets {
		j.Revision = 0
		b.Keysets[i] = j
	}
	var err error
	if b.Checksum, err = backupChecksum(b.Keysets); err != nil {
		return fmt.Errorf("write backup: %w: %w", piiguard.ErrInternal, err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("write backup: %w: %w", piiguard.ErrUnavailable, err)
	}
	return nil
}

// ReadBackup decodes a backup; name identifies the source (a file path) in
// errors, which start with "backup NAME: ". A truncated or malformed backup
// is an error wrapping kms.ErrCorrupt; a backup from a newer version of
// piiguard wraps kms.ErrUnsupportedVersion; a failure of r wraps
// kms.ErrUnavailable. What it returns validates (Keyset.Validate), holds
// each keyset once, and has no revisions.
func ReadBackup(r io.Reader, name string) (*Backup, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBackupSize+1))
	if err != nil {
		return nil, fmt.Errorf("backup %q: %w: %w", name, piiguard.ErrUnavailable, err)
	}
	if len(data) > MaxBackupSize {
		return nil, fmt.Errorf("backup %q: %w: larger than %d bytes", name, piiguard.ErrCorrupt, MaxBackupSize)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("backup %q: %w: %s", name, piiguard.ErrCorrupt, JSONProblem(err))
	}
	if head.Format != backupFormat {
		return nil, fmt.Errorf("backup %q: %w: not a piiguard key backup", name, piiguard.ErrCorrupt)
	}
	if head.Version > backupVersion {
		return nil, fmt.Errorf("backup %q: %w: version %d (this piiguard reads up to %d)", name, piiguard.ErrUnsupportedVersion, head.Version, backupVersion)
	}
	if head.Version < 1 {
		return nil, fmt.Errorf("backup %q: %w: version %d", name, piiguard.ErrCorrupt, head.Version)
	}
	var b backupJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("backup %q: %w: %s", name, piiguard.ErrCorrupt, JSONProblem(err))
	}
	sum, err := backupChecksum(b.Keysets)
	if err != nil || sum != b.Checksum {
		return nil, fmt.Errorf("backup %q: %w: checksum does not match", name, piiguard.ErrCorrupt)
	}
	out := &Backup{Created: b.Created}
	seen := map[string]bool{}
	for _, j := range b.Keysets {
		if err := j.Validate(); err != nil {
			return nil, fmt.Errorf("backup %q: %w: %w", name, piiguard.ErrCorrupt, err)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("backup %q: %w: keyset %q appears twice", name, piiguard.ErrCorrupt, j.Name)
		}
		seen[j.Name] = true
		j.Revision = 0
		out.Keysets = append(out.Keysets, j)
	}
	return out, nil
}
