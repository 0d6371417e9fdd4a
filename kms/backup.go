package kms

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
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
