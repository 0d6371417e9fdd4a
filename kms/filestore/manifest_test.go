package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
)

var ctx = context.Background()

// TestManifestGoldenV1: FileStore reads manifest format version 1 as
// testdata/manifest-v1.json pins it, and writes it back byte for byte.
func TestManifestGoldenV1(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "manifest-v1.json"))
	require.NoError(t, err)
	dir := t.TempDir()
	s, err := filestore.Open(dir)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), golden, 0o600))

	m, err := s.GetManifest(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), m.Revision)
	assert.Equal(t, "local:/var/lib/app/root.key", m.RootKey)
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, m.RootCheck)
	assert.Equal(t, []string{"audit-mac", "audit-sign", "pii-fields", "pii-search"}, m.Keysets)
	assert.True(t, m.Created.Equal(time.Date(2026, 12, 4, 3, 0, 0, 123456789, time.UTC)))
	assert.True(t, m.Updated.Equal(time.Date(2026, 12, 4, 4, 30, 0, 0, time.UTC)))

	// Written three times (revisions 1 to 3) by another FileStore, it is
	// the same file, byte for byte.
	other := t.TempDir()
	s2, err := filestore.Open(other)
	require.NoError(t, err)
	for rev := range int64(3) {
		w := &kms.Manifest{Revision: rev, RootKey: m.RootKey, RootCheck: m.RootCheck, Keysets: m.Keysets, Created: m.Created, Updated: m.Updated}
		require.NoError(t, s2.PutManifest(ctx, w))
	}
	got, err := os.ReadFile(filepath.Join(other, "manifest.json"))
	require.NoError(t, err)
	assert.Equal(t, string(golden), string(got))
}

// TestManifestFileRefusesDamage: a damaged or newer manifest file is an
// error naming the file, never quoting it.
func TestManifestFileRefusesDamage(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "manifest-v1.json"))
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		data string
		want error
	}{
		"truncated":     {string(golden[:40]), kms.ErrCorrupt},
		"newer version": {`{"format":"piiguard.store-manifest","version":2}`, kms.ErrUnsupportedVersion},
		"other format":  {`{"format":"piiguard.keybackup","version":1}`, kms.ErrCorrupt},
		"unknown field": {`{"format":"piiguard.store-manifest","version":1,"revision":1,"root_key":"r","root_check":"AQ==","keysets":[],"secret":"s3cr3t-value"}`, kms.ErrCorrupt},
		"unsorted":      {`{"format":"piiguard.store-manifest","version":1,"revision":1,"root_key":"r","root_check":"AQ==","keysets":["b","a"]}`, kms.ErrCorrupt},
		"no root check": {`{"format":"piiguard.store-manifest","version":1,"revision":1,"root_key":"r","keysets":[]}`, kms.ErrCorrupt},
		"revision 0":    {`{"format":"piiguard.store-manifest","version":1,"revision":0,"root_key":"r","root_check":"AQ==","keysets":[]}`, kms.ErrCorrupt},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := filestore.Open(dir)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(tc.data), 0o600))
			_, err = s.GetManifest(ctx)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "manifest.json")
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

// FuzzManifestFile: whatever manifest.json holds, reading it returns a
// manifest that validates or an error, and never panics.
func FuzzManifestFile(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "manifest-v1.json"))
	require.NoError(f, err)
	f.Add(golden)
	f.Add([]byte(`{"format":"piiguard.store-manifest","version":1}`))
	f.Add([]byte(`{}`))
	dir := f.TempDir()
	s, err := filestore.Open(dir)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o600))
		m, err := s.GetManifest(ctx)
		if err != nil {
			return
		}
		require.NotEmpty(t, m.RootKey)
		require.NotEmpty(t, m.RootCheck)
		require.Positive(t, m.Revision)
		for i := 1; i < len(m.Keysets); i++ {
			require.Less(t, m.Keysets[i-1], m.Keysets[i])
		}
	})
}
