package storekit

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func fullRecord(t *testing.T) *kms.KeysetRecord {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	rec := &kms.KeysetRecord{
		Name: "fields", Purpose: kms.PurposeAEAD, Revision: 7, RootKey: "root",
		WrappedDataKey: []byte{1}, EncryptedKeyset: []byte{2},
		Versions: []kms.VersionRecord{{ID: 9, Number: 1, Status: kms.StatusEnabled, Primary: true, Created: at, Updated: at.Add(time.Second), Canary: []byte{3}}},
		Created:  at, Updated: at.Add(time.Minute),
	}
	for _, v := range []reflect.Value{reflect.ValueOf(*rec), reflect.ValueOf(rec.Versions[0])} {
		for i := range v.NumField() {
			require.False(t, v.Field(i).IsZero(), "the test sets %s.%s", v.Type().Name(), v.Type().Field(i).Name)
		}
	}
	return rec
}

// TestWireRoundTripKeepsEveryField: as kms's own test of its copy.
func TestWireRoundTripKeepsEveryField(t *testing.T) {
	rec := fullRecord(t)
	assert.Equal(t, rec, FromWire(ToWire(rec)))
}

func TestClonesShareNothing(t *testing.T) {
	rec := fullRecord(t)
	c := CloneRecord(rec)
	assert.Equal(t, rec, c)
	c.WrappedDataKey[0], c.EncryptedKeyset[0], c.Versions[0].Canary[0] = 9, 9, 9
	c.Versions[0].Status = kms.StatusDisabled
	assert.Equal(t, fullRecord(t), rec)

	m := &kms.Manifest{Revision: 1, RootKey: "r", RootCheck: []byte{1}, Keysets: []string{"a"}}
	mc := CloneManifest(m)
	assert.Equal(t, m, mc)
	mc.RootCheck[0], mc.Keysets[0] = 9, "b"
	assert.Equal(t, []byte{1}, m.RootCheck)
	assert.Equal(t, []string{"a"}, m.Keysets)
}

func TestCheckManifestCAS(t *testing.T) {
	cur := &kms.Manifest{Revision: 2}
	assert.NoError(t, CheckManifestCAS(nil, &kms.Manifest{}))
	assert.NoError(t, CheckManifestCAS(cur, &kms.Manifest{Revision: 2}))
	assert.ErrorIs(t, CheckManifestCAS(cur, &kms.Manifest{}), kms.ErrAlreadyExists)
	assert.ErrorIs(t, CheckManifestCAS(nil, &kms.Manifest{Revision: 1}), kms.ErrConflict)
	assert.ErrorIs(t, CheckManifestCAS(cur, &kms.Manifest{Revision: 1}), kms.ErrConflict)
}
