package sqlstore

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

var goldenVersions = []kms.VersionRecord{
	{
		ID: 4000000001, Number: 1, Status: kms.StatusDestroyed,
		Created: time.Date(2024, 3, 14, 15, 9, 26, 535897000, time.UTC),
		Updated: time.Date(2024, 3, 16, 15, 9, 26, 0, time.UTC),
	},
	{
		ID: 17, Number: 2, Status: kms.StatusEnabled, Primary: true,
		Created: time.Date(2024, 3, 14, 16, 9, 26, 1000, time.UTC),
		Canary:  []byte("canary bytes"),
	},
}

// The versions column is a wire format: what a release wrote, a later one
// must read.
func TestVersionsFormatV1IsPinned(t *testing.T) {
	golden, err := os.ReadFile("testdata/versions-v1.json")
	require.NoError(t, err)

	got, err := decodeVersions(golden)
	require.NoError(t, err)
	require.Len(t, got, len(goldenVersions))
	for i := range got {
		assert.True(t, goldenVersions[i].Created.Equal(got[i].Created))
		assert.True(t, goldenVersions[i].Updated.Equal(got[i].Updated))
		got[i].Created, got[i].Updated = goldenVersions[i].Created, goldenVersions[i].Updated
	}
	assert.Equal(t, goldenVersions[0].ID, got[0].ID)
	assert.Empty(t, got[0].Canary)
	got[0].Canary = nil
	assert.Equal(t, goldenVersions, got)

	enc, err := encodeVersions(goldenVersions)
	require.NoError(t, err)
	var a, b any
	require.NoError(t, json.Unmarshal([]byte(enc), &a))
	require.NoError(t, json.Unmarshal(golden, &b))
	assert.Equal(t, b, a, "encoding changed: update SchemaVersion and add a migration")
}

func TestDecodeVersionsRejectsGarbage(t *testing.T) {
	for _, in := range []string{`{`, `[{"created":"yesterday"}]`, `[{"id":-1}]`, `"x"`} {
		_, err := decodeVersions([]byte(in))
		assert.ErrorIs(t, err, kms.ErrCorrupt, in)
	}
}

func TestTimesAreTruncatedToMicroseconds(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 999999999, time.FixedZone("x", 3600))
	assert.Equal(t, "2024-01-02T02:04:05.999999Z", formatTime(tm))
	back, err := parseTime(formatTime(tm))
	require.NoError(t, err)
	assert.True(t, back.Equal(tm.Truncate(time.Microsecond)))
	assert.Equal(t, "", formatTime(time.Time{}))
}

func TestRebind(t *testing.T) {
	assert.Equal(t, "a = $1 AND b = $2", Postgres.rebind("a = ? AND b = ?"))
	assert.Equal(t, "a = ?", SQLite.rebind("a = ?"))
}
