package format_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/format"
)

// goldenBackup is the golden backup of package kms, which its
// TestBackupGoldenV1 restores and uses under the golden root key.
var goldenBackup = filepath.Join("..", "..", "testdata", "backup-v1.json")

func TestReadBackupRejectsBadFiles(t *testing.T) {
	good, err := os.ReadFile(goldenBackup)
	require.NoError(t, err)
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":           {nil, kms.ErrCorrupt},
		"truncated":       {good[:len(good)/2], kms.ErrCorrupt},
		"not json":        {[]byte("hello"), kms.ErrCorrupt},
		"other format":    {[]byte(`{"format":"x","version":1}`), kms.ErrCorrupt},
		"newer version":   {bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1), kms.ErrUnsupportedVersion},
		"version zero":    {bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 0`), 1), kms.ErrCorrupt},
		"unknown field":   {bytes.Replace(good, []byte(`"format"`), []byte(`"extra": 1, "format"`), 1), kms.ErrCorrupt},
		"bad checksum":    {bytes.Replace(good, []byte(`"sha256:`), []byte(`"sha256:00`), 1), kms.ErrCorrupt},
		"edited metadata": {bytes.Replace(good, []byte(`"status": "enabled"`), []byte(`"status": "disabled"`), 1), kms.ErrCorrupt},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := format.ReadBackup(bytes.NewReader(c.data), "/backups/keys.json")
			require.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), "/backups/keys.json", "the error names the file")
			assert.Less(t, len(err.Error()), 300, "the error does not quote the file")
		})
	}
}

func FuzzReadBackup(f *testing.F) {
	good, err := os.ReadFile(goldenBackup)
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"format":"piiguard.keybackup","version":1,"keysets":[],"checksum":"sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := format.ReadBackup(bytes.NewReader(data), "fuzz")
		if err != nil {
			code := piiguard.ErrorCode(err)
			if code != piiguard.CodeCorrupt && code != piiguard.CodeUnsupportedVersion {
				t.Fatalf("unexpected error class %s: %v", code, err)
			}
			if strings.Contains(err.Error(), "wrapped_data_key\":") {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		// What parses writes back and parses again to the same keysets.
		var buf bytes.Buffer
		require.NoError(t, format.WriteBackup(&buf, b.Created, b.Keysets))
		b2, err := format.ReadBackup(&buf, "again")
		require.NoError(t, err)
		require.Equal(t, len(b.Keysets), len(b2.Keysets))
	})
}
