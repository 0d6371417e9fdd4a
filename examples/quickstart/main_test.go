package main

import (
	"bytes"
	"context"
	"path/filepath"
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
	assert.Contains(t, first.String(), "creating root key file")
	assert.Contains(t, first.String(), "opened e-mail: lovelace@example.com")
	assert.Contains(t, first.String(), "still opens: lovelace@example.com")
	assert.Contains(t, first.String(), "does not open: invalid_ciphertext")

	require.NoError(t, run(context.Background(), &second, dir))
	assert.NotContains(t, second.String(), "creating root key file")
	assert.Contains(t, second.String(), "pii-fields v3", "the second run rotated again")
}
