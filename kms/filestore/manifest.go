package filestore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/format"
)

// The manifest file format, version 1, is documented in doc.go (the
// package documentation).
const (
	manifestFormat  = "piiguard.store-manifest"
	manifestVersion = 1
)

type manifestJSON struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	Revision  int64     `json:"revision"`
	RootKey   string    `json:"root_key"`
	RootCheck []byte    `json:"root_check"`
	Keysets   []string  `json:"keysets"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// marshalManifest encodes m (with its revision) in the manifest format.
func marshalManifest(m *kms.Manifest) ([]byte, error) {
	if err := validateManifest(m); err != nil {
		return nil, err
	}
	j := manifestJSON{
		Format: manifestFormat, Version: manifestVersion, Revision: m.Revision,
		RootKey: m.RootKey, RootCheck: m.RootCheck, Keysets: m.Keysets,
		Created: m.Created.UTC(), Updated: m.Updated.UTC(),
	}
	if j.Keysets == nil {
		j.Keysets = []string{}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	return append(b, '\n'), err
}

// unmarshalManifest decodes the manifest format; errors wrap kms.ErrCorrupt
// or kms.ErrUnsupportedVersion and never quote the input.
func unmarshalManifest(data []byte) (*kms.Manifest, error) {
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: manifest: %s", kms.ErrCorrupt, format.JSONProblem(err))
	}
	if head.Format != manifestFormat {
		return nil, fmt.Errorf("%w: not a piiguard store manifest", kms.ErrCorrupt)
	}
	if head.Version > manifestVersion {
		return nil, fmt.Errorf("%w: manifest version %d (this piiguard reads up to %d)", kms.ErrUnsupportedVersion, head.Version, manifestVersion)
	}
	var j manifestJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: manifest: %s", kms.ErrCorrupt, format.JSONProblem(err))
	}
	if j.Version < 1 || j.Revision < 1 {
		return nil, fmt.Errorf("%w: manifest: version and revision must be at least 1", kms.ErrCorrupt)
	}
	m := &kms.Manifest{Revision: j.Revision, RootKey: j.RootKey, RootCheck: j.RootCheck, Keysets: j.Keysets, Created: j.Created, Updated: j.Updated}
	if err := validateManifest(m); err != nil {
		return nil, fmt.Errorf("%w: %w", kms.ErrCorrupt, err)
	}
	return m, nil
}

// validateManifest checks the structure of m: a root key and its check,
// and valid keyset names, sorted, without duplicates.
func validateManifest(m *kms.Manifest) error {
	return format.ValidateManifest(m.RootKey, m.RootCheck, m.Keysets)
}
