package kms

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms/internal/format"
)

// TestWireFormatKnowsThePurposesAndStatuses: the wire format, which cannot
// import kms, checks purposes and statuses against lists of its own; they
// are this package's.
func TestWireFormatKnowsThePurposesAndStatuses(t *testing.T) {
	purposes := []Purpose{PurposeAEAD, PurposePRF, PurposeDeterministicAEAD, PurposeMAC, PurposeSignature}
	var want []string
	for _, p := range purposes {
		_, err := p.template()
		require.NoError(t, err, p)
		want = append(want, string(p))
	}
	assert.Equal(t, want, format.Purposes)
	assert.Equal(t, []string{string(StatusEnabled), string(StatusDisabled), string(StatusDestroyed)}, format.Statuses)
}

// TestWireRoundTripKeepsEveryField: a record with every field set comes
// back from its wire form unchanged, so that a field added to KeysetRecord
// or VersionRecord cannot be forgotten by the formats.
func TestWireRoundTripKeepsEveryField(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	rec := &KeysetRecord{
		Name: "fields", Purpose: PurposeAEAD, Revision: 7, RootKey: "root",
		WrappedDataKey: []byte{1}, EncryptedKeyset: []byte{2},
		Versions: []VersionRecord{{ID: 9, Number: 1, Status: StatusEnabled, Primary: true, Created: at, Updated: at.Add(time.Second), Canary: []byte{3}}},
		Created:  at, Updated: at.Add(time.Minute),
	}
	for _, v := range []reflect.Value{reflect.ValueOf(*rec), reflect.ValueOf(rec.Versions[0])} {
		for i := range v.NumField() {
			require.False(t, v.Field(i).IsZero(), "the test sets %s.%s", v.Type().Name(), v.Type().Field(i).Name)
		}
	}
	assert.Equal(t, rec, fromWire(toWire(rec)))
}
