package sqlstore

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
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
	assert.Equal(t, "a = $1 AND b = $2", rebind(piiguard.Postgres, "a = ? AND b = ?"))
	assert.Equal(t, "a = ?", rebind(piiguard.SQLite, "a = ?"))
}

// FuzzDecodeVersions feeds the versions column arbitrary bytes (a damaged
// or tampered database): decoding never panics, fails only with ErrCorrupt,
// and what it accepts survives an encode/decode round trip.
func FuzzDecodeVersions(f *testing.F) {
	if golden, err := os.ReadFile("testdata/versions-v1.json"); err == nil {
		f.Add(golden)
	}
	for _, s := range []string{"", "null", "[]", "[{}]", `[{"created":"x"}]`, `[{"id":1,"created":"2024-03-14T15:09:26.535897Z"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := decodeVersions(b)
		if err != nil {
			if !errors.Is(err, kms.ErrCorrupt) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		enc, err := encodeVersions(vs)
		if err != nil {
			return // a time the encoder refuses: not a decoding fault
		}
		again, err := decodeVersions([]byte(enc))
		if err != nil {
			t.Fatalf("re-decoding what was encoded: %v", err)
		}
		if len(vs) == 0 {
			vs = nil
		}
		for i := range vs { // an empty canary is written as ""
			if len(vs[i].Canary) == 0 {
				vs[i].Canary, again[i].Canary = nil, nil
			}
		}
		if !assert.ObjectsAreEqual(vs, again) {
			t.Fatalf("round trip changed the versions:\n%v\n%v", vs, again)
		}
	})
}
