package kms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func TestKeysetRecordVersion(t *testing.T) {
	rec := &kms.KeysetRecord{Versions: []kms.VersionRecord{{ID: 7, Number: 1}, {ID: 9, Number: 2, Primary: true}}}
	v := rec.Version(9)
	require.NotNil(t, v)
	assert.Equal(t, 2, v.Number)
	v.Status = kms.StatusDisabled
	assert.Equal(t, kms.StatusDisabled, rec.Versions[1].Status, "the result points into the record")
	assert.Nil(t, rec.Version(8))
	assert.Nil(t, (&kms.KeysetRecord{}).Version(7))
}
