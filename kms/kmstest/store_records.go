package kmstest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// StoreTimePrecision is the precision to which a Store must keep times: at
// least microseconds (PostgreSQL's TIMESTAMPTZ), truncating — never
// rounding — anything finer. The suite writes times with nanoseconds and
// compares them truncated to this precision with time.Equal, so a store may
// also keep them exactly, and in any location.
const StoreTimePrecision = time.Microsecond

// baseTime has nanoseconds that a microsecond store must truncate, not round
// (…932 ns would round up).
var baseTime = time.Date(2024, time.March, 14, 15, 9, 26, 535897932, time.UTC)

// elsewhere is a location with an odd offset: stores may return times in
// any location, and the suite compares instants.
var elsewhere = time.FixedZone("UTC+05:30", 5*3600+30*60)

var nameSeq atomic.Uint64

// uniqueName returns a name that no other test of this process uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, nameSeq.Add(1))
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// newKeysetRecord returns a record to create (Revision 0) with three
// versions that exercise every field: a large uint32 ID, each status, an
// empty canary, times with nanoseconds and in another location.
func newKeysetRecord(t testing.TB, name string) *kms.KeysetRecord {
	t.Helper()
	return &kms.KeysetRecord{
		Name:            name,
		Purpose:         kms.PurposeAEAD,
		RootKey:         "local://root-key-1",
		WrappedDataKey:  randomBytes(t, 60),
		EncryptedKeyset: randomBytes(t, 200),
		Versions: []kms.VersionRecord{
			{
				ID: 4000000001, Number: 1, Status: kms.StatusDestroyed,
				Created: baseTime, Updated: baseTime.Add(48 * time.Hour),
				Canary: nil,
			},
			{
				ID: 17, Number: 2, Status: kms.StatusDisabled,
				Created: baseTime.Add(time.Hour).In(elsewhere), Updated: baseTime.Add(49*time.Hour + 999),
				Canary: randomBytes(t, 44),
			},
			{
				ID: 0x9e3779b9, Number: 3, Status: kms.StatusEnabled, Primary: true,
				Created: baseTime.Add(2*time.Hour + 1), Updated: baseTime.Add(2*time.Hour + 1),
				Canary: randomBytes(t, 32),
			},
		},
		Created: baseTime.In(elsewhere),
		Updated: baseTime.Add(2*time.Hour + 123),
	}
}

func newSubjectKeyRecord(t testing.TB, subjectID string) *kms.SubjectKeyRecord {
	t.Helper()
	return &kms.SubjectKeyRecord{
		SubjectID:    subjectID,
		Keyset:       "subject-keys",
		EncryptedKey: randomBytes(t, 77),
		Created:      baseTime.Add(3 * time.Hour).In(elsewhere),
	}
}

// cloneKeyset returns a deep copy of rec.
func cloneKeyset(rec *kms.KeysetRecord) *kms.KeysetRecord {
	c := *rec
	c.WrappedDataKey = bytes.Clone(rec.WrappedDataKey)
	c.EncryptedKeyset = bytes.Clone(rec.EncryptedKeyset)
	c.Versions = make([]kms.VersionRecord, len(rec.Versions))
	for i, v := range rec.Versions {
		v.Canary = bytes.Clone(v.Canary)
		c.Versions[i] = v
	}
	return &c
}

// sameTime reports whether a and b are the same instant at the precision
// stores keep.
func sameTime(a, b time.Time) bool {
	return a.Truncate(StoreTimePrecision).Equal(b.Truncate(StoreTimePrecision))
}

// assertTime checks one time field.
func assertTime(t testing.TB, what string, want, got time.Time) bool {
	t.Helper()
	return assert.Truef(t, sameTime(want, got), "%s: want %s, got %s (compared at %v)", what,
		want.UTC().Format(time.RFC3339Nano), got.UTC().Format(time.RFC3339Nano), StoreTimePrecision)
}

// assertBytes checks one byte field; nil and empty are the same.
func assertBytes(t testing.TB, what string, want, got []byte) bool {
	t.Helper()
	return assert.Truef(t, bytes.Equal(want, got), "%s differs: want %d bytes, got %d bytes", what, len(want), len(got))
}

// assertKeysetEqual checks every field of got against want.
func assertKeysetEqual(t testing.TB, want, got *kms.KeysetRecord) bool {
	t.Helper()
	if !assert.NotNil(t, got, "keyset record") {
		return false
	}
	ok := assert.Equal(t, want.Name, got.Name, "Name")
	ok = assert.Equal(t, want.Purpose, got.Purpose, "Purpose") && ok
	ok = assert.Equal(t, want.Revision, got.Revision, "Revision") && ok
	ok = assert.Equal(t, want.RootKey, got.RootKey, "RootKey") && ok
	ok = assertBytes(t, "WrappedDataKey", want.WrappedDataKey, got.WrappedDataKey) && ok
	ok = assertBytes(t, "EncryptedKeyset", want.EncryptedKeyset, got.EncryptedKeyset) && ok
	ok = assertTime(t, "Created", want.Created, got.Created) && ok
	ok = assertTime(t, "Updated", want.Updated, got.Updated) && ok
	if !assert.Len(t, got.Versions, len(want.Versions), "Versions") {
		return false
	}
	for i, w := range want.Versions {
		g := got.Versions[i]
		p := fmt.Sprintf("Versions[%d].", i)
		ok = assert.Equal(t, w.ID, g.ID, p+"ID") && ok
		ok = assert.Equal(t, w.Number, g.Number, p+"Number") && ok
		ok = assert.Equal(t, w.Status, g.Status, p+"Status") && ok
		ok = assert.Equal(t, w.Primary, g.Primary, p+"Primary") && ok
		ok = assertTime(t, p+"Created", w.Created, g.Created) && ok
		ok = assertTime(t, p+"Updated", w.Updated, g.Updated) && ok
		ok = assertBytes(t, p+"Canary", w.Canary, g.Canary) && ok
	}
	return ok
}

// assertSubjectKeyEqual checks every field of got against want.
func assertSubjectKeyEqual(t testing.TB, want, got *kms.SubjectKeyRecord) bool {
	t.Helper()
	if !assert.NotNil(t, got, "subject key record") {
		return false
	}
	ok := assert.Equal(t, want.SubjectID, got.SubjectID, "SubjectID")
	ok = assert.Equal(t, want.Keyset, got.Keyset, "Keyset") && ok
	ok = assertBytes(t, "EncryptedKey", want.EncryptedKey, got.EncryptedKey) && ok
	ok = assertTime(t, "Created", want.Created, got.Created) && ok
	ok = assert.Equal(t, want.Destroyed.IsZero(), got.Destroyed.IsZero(), "Destroyed set") && ok
	ok = assertTime(t, "Destroyed", want.Destroyed, got.Destroyed) && ok
	return ok
}

// assertNoSecret checks that err's message holds none of the secrets, raw
// or in a common encoding.
func assertNoSecret(t testing.TB, err error, secrets ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for _, enc := range []string{
			string(s), hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)),
			base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s),
			fmt.Sprint(s), fmt.Sprintf("%q", s),
		} {
			assert.NotContains(t, msg, enc[:min(len(enc), 16)], "error message leaks key bytes: %q", msg)
		}
	}
}
