package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstartRunsTwice runs the quickstart on a fresh data folder, then
// again on the same folder: the second run reuses the root key and keysets.
func TestQuickstartRunsTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var first, second bytes.Buffer
	require.NoError(t, run(context.Background(), &first, dir))
	out := first.String()
	assert.Contains(t, out, "creating root key file")
	assert.Contains(t, out, "search \"  Ada.Lovelace@EXAMPLE.com\": 1 match")
	assert.Contains(t, out, "billing sees:  Ada Lovelace | ada.lovelace@example.com")
	assert.Contains(t, out, "support sees:  A. L. | a***@example.com")
	assert.NotContains(t, strings.SplitN(out, "support sees:", 2)[1], "QQ123456C", "support never sees the national ID in full")
	assert.Contains(t, out, "cus_1001  sealed under key ID")
	assert.Contains(t, out, "opens: Katherine Johnson")

	// The raw rows hold no plaintext.
	rows := out[strings.Index(out, "the rows as the database holds them"):strings.Index(out, "== 3.")]
	for _, c := range customers {
		assert.NotContains(t, rows, c.Name)
		assert.NotContains(t, rows, c.Email)
	}
	// Neither does the database file, nor the audit log.
	for _, f := range []string{"customers.db", "audit.jsonl", "keys.db"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		for _, c := range customers {
			assert.NotContains(t, string(b), c.Email, f)
			assert.NotContains(t, string(b), c.NationalID, f)
		}
	}

	require.NoError(t, run(context.Background(), &second, dir))
	assert.NotContains(t, second.String(), "creating root key file")
	assert.Contains(t, second.String(), "pii-fields: version 3", "the second run rotated again")
}
