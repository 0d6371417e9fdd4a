package kms_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// Messages say each thing once, and call a key ID a key ID.

func TestVersionErrorsNameTheKeyID(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	v, err := f.admin.Create(ctx, "k", kms.PurposeAEAD)
	require.NoError(t, err)
	for op, call := range map[string]func(uint32) error{
		"disable": func(id uint32) error { return f.admin.Disable(ctx, "k", id) },
		"enable":  func(id uint32) error { return f.admin.Enable(ctx, "k", id) },
		"destroy": func(id uint32) error { return f.admin.Destroy(ctx, "k", id) },
		"promote": func(id uint32) error { return f.admin.Promote(ctx, "k", id) },
	} {
		err := call(12345)
		require.ErrorIs(t, err, kms.ErrNotFound, op)
		assert.Equal(t, `kms: `+op+` keyset "k" key ID 12345: not found: no version has this key ID`, err.Error())
		var ke *kms.KeyError
		require.ErrorAs(t, err, &ke, op)
		assert.Equal(t, uint32(12345), ke.KeyID, op)
	}

	err = f.admin.Disable(ctx, "k", v.ID)
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	id := strconv.FormatUint(uint64(v.ID), 10)
	assert.Equal(t, `kms: disable keyset "k" key ID `+id+`: invalid argument: it is the primary version; rotate first`, err.Error())
	assert.NotContains(t, err.Error(), "version "+id)

	v2, err := f.admin.Rotate(ctx, "k")
	require.NoError(t, err)
	require.NoError(t, f.admin.Disable(ctx, "k", v.ID))
	err = f.admin.Promote(ctx, "k", v.ID)
	require.ErrorIs(t, err, kms.ErrDisabled)
	assert.Equal(t, `kms: promote keyset "k" key ID `+id+`: key disabled: a disabled version cannot be primary`, err.Error())
	require.NoError(t, f.admin.Destroy(ctx, "k", v.ID))
	err = f.admin.Enable(ctx, "k", v.ID)
	require.ErrorIs(t, err, kms.ErrDestroyed)
	assert.Equal(t, `kms: enable keyset "k" key ID `+id+`: key destroyed`, err.Error())
	require.NoError(t, f.admin.Promote(ctx, "k", v2.ID))
}

func TestSubjectKeyErrorsSaySubjectKeyOnce(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.kr.SubjectKey(ctx, "")
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.Equal(t, "kms: get subject key: invalid argument: subject ID must be 1 to 256 bytes", err.Error())
	err = f.admin.DestroySubjectKey(ctx, "bad\x00id")
	require.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.Equal(t, "kms: destroy subject key: invalid argument: subject ID holds a control character", err.Error())

	// A closed keyring: the subject ID, which may be personal data, stays
	// out of the message, as in every subject key error.
	require.NoError(t, f.kr.Close())
	const subject = "alice@example.com"
	_, err = f.kr.SubjectKey(ctx, subject)
	require.ErrorIs(t, err, kms.ErrClosed)
	assert.Equal(t, "kms: get subject key: closed", err.Error())
	err = f.admin.DestroySubjectKey(ctx, subject)
	require.ErrorIs(t, err, kms.ErrClosed)
	assert.Equal(t, "kms: destroy subject key: closed", err.Error())
	var ke *kms.KeyError
	require.ErrorAs(t, err, &ke)
	assert.True(t, ke.Subject)
	assert.Equal(t, subject, ke.Keyset, "the field keeps the subject ID for callers")
}

// TestMemoryStoreSubjectKeyErrorsSaySubjectKeyOnce: the store's own errors
// no longer repeat what the keyring's KeyError says.
func TestMemoryStoreSubjectKeyErrorsSaySubjectKeyOnce(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	err := f.admin.DestroySubjectKey(ctx, "nobody")
	require.ErrorIs(t, err, kms.ErrNotFound)
	assert.Equal(t, 1, strings.Count(err.Error(), "subject key"), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "kms:"), err.Error())
}

// TestVerifyErrorNamesTheKeysetOnceAndCountsInWords: a keyset that does not
// unwrap is not "version 0", and one failure is "1 failure".
func TestVerifyErrorNamesTheKeysetOnceAndCountsInWords(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	require.NoError(t, f.admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	other, err := kms.NewKeyring(newRoot(t, "other"), f.store, kms.KeyringOptions{})
	require.NoError(t, err)
	_, err = kms.NewAdmin(other).Verify(ctx)
	require.ErrorIs(t, err, kms.ErrVerification)
	assert.Contains(t, err.Error(), `1 failure; first: keyset "fields": `)
	assert.NotContains(t, err.Error(), "version 0")
	assert.NotContains(t, err.Error(), "1 failures")
}

// TestVerifyBackupErrorSaysKMSOnce: a damaged backup's error reads
// "kms: verify backup: backup …", not "kms: … keyset "*": kms: backup …".
func TestVerifyBackupErrorSaysKMSOnce(t *testing.T) {
	f := newFixture(t, kms.KeyringOptions{})
	_, err := f.admin.VerifyBackup(ctx, strings.NewReader(`{"format":"piiguard.keybackup"`), "b.json")
	require.ErrorIs(t, err, kms.ErrCorrupt)
	assert.Equal(t, `kms: verify backup: backup "b.json": corrupt: truncated`, err.Error())
}
