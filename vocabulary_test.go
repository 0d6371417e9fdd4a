package piiguard_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/detect"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/sqlstore"
	"github.com/piiguard/piiguard/pii"
	"github.com/piiguard/piiguard/tokenize"
	"github.com/piiguard/piiguard/tokenize/sqlvault"
)

// TestOneErrorModel: every sentinel of every package is classified by
// piiguard.ErrorCode, and a sentinel name that several packages export is
// one value, defined once.
func TestOneErrorModel(t *testing.T) {
	byName := map[string][]error{}
	add := func(pkg string, errs map[string]error) {
		for name, err := range errs {
			byName[name] = append(byName[name], err)
			code := piiguard.ErrorCode(err)
			if name != "ErrBackend" {
				assert.NotEqual(t, piiguard.CodeInternal, code, "%s.%s is not classified", pkg, name)
			}
		}
	}
	add("kms", map[string]error{
		"ErrNotFound": kms.ErrNotFound, "ErrAlreadyExists": kms.ErrAlreadyExists, "ErrPermissionDenied": kms.ErrPermissionDenied,
		"ErrUnavailable": kms.ErrUnavailable, "ErrInvalidCiphertext": kms.ErrInvalidCiphertext, "ErrDisabled": kms.ErrDisabled,
		"ErrDestroyed": kms.ErrDestroyed, "ErrClosed": kms.ErrClosed, "ErrConflict": kms.ErrConflict,
		"ErrWrongPassphrase": kms.ErrWrongPassphrase, "ErrWeakPassphrase": kms.ErrWeakPassphrase, "ErrCorrupt": kms.ErrCorrupt,
		"ErrUnsupportedVersion": kms.ErrUnsupportedVersion, "ErrUnknownScheme": kms.ErrUnknownScheme, "ErrNotEmpty": kms.ErrNotEmpty,
		"ErrKeysMissing": kms.ErrKeysMissing, "ErrWrongRootKey": kms.ErrWrongRootKey, "ErrInvalidArgument": kms.ErrInvalidArgument,
		"ErrVerification": kms.ErrVerification, "ErrBackend": kms.ErrBackend,
	})
	add("audit", map[string]error{
		"ErrBufferFull": audit.ErrBufferFull, "ErrClosed": audit.ErrClosed, "ErrBlocked": audit.ErrBlocked,
		"ErrCorrupt": audit.ErrCorrupt, "ErrTampered": audit.ErrTampered, "ErrTruncated": audit.ErrTruncated,
		"ErrNotChained": audit.ErrNotChained, "ErrInvalidEvent": audit.ErrInvalidEvent,
	})
	add("access", map[string]error{
		"ErrNoPrincipal": access.ErrNoPrincipal, "ErrUnknownAction": access.ErrUnknownAction, "ErrUnknownRole": access.ErrUnknownRole,
		"ErrUnknownPurpose": access.ErrUnknownPurpose, "ErrInvalidPolicy": access.ErrInvalidPolicy, "ErrDenied": access.ErrDenied,
	})
	add("pii", map[string]error{
		"ErrInvalidRecord": pii.ErrInvalidRecord, "ErrInvalidTag": pii.ErrInvalidTag, "ErrUnsupportedType": pii.ErrUnsupportedType,
		"ErrUnexportedField": pii.ErrUnexportedField, "ErrMissingID": pii.ErrMissingID, "ErrCycle": pii.ErrCycle,
		"ErrTooLarge": pii.ErrTooLarge, "ErrPlaintext": pii.ErrPlaintext, "ErrInvalidCiphertext": pii.ErrInvalidCiphertext,
		"ErrUnsupportedFormat": pii.ErrUnsupportedFormat, "ErrNotSearchable": pii.ErrNotSearchable, "ErrNoTokenizer": pii.ErrNoTokenizer,
		"ErrSealed": pii.ErrSealed, "ErrAudit": pii.ErrAudit, "ErrNoChecker": pii.ErrNoChecker, "ErrAccessCheck": pii.ErrAccessCheck,
	})
	add("tokenize", map[string]error{
		"ErrInvalidDomain": tokenize.ErrInvalidDomain, "ErrInvalidOptions": tokenize.ErrInvalidOptions, "ErrInvalidValue": tokenize.ErrInvalidValue,
		"ErrInvalidCharacter": tokenize.ErrInvalidCharacter, "ErrTooShort": tokenize.ErrTooShort, "ErrCheckDigit": tokenize.ErrCheckDigit,
		"ErrMalformedToken": tokenize.ErrMalformedToken, "ErrUnknownToken": tokenize.ErrUnknownToken, "ErrExpiredToken": tokenize.ErrExpiredToken,
		"ErrWrongDomain": tokenize.ErrWrongDomain, "ErrIrreversible": tokenize.ErrIrreversible, "ErrDenied": tokenize.ErrDenied,
		"ErrKeyVersion": tokenize.ErrKeyVersion, "ErrStore": tokenize.ErrStore,
	})
	add("detect", map[string]error{
		"ErrUnknownKind": detect.ErrUnknownKind, "ErrUnknownRegion": detect.ErrUnknownRegion, "ErrClosed": detect.ErrClosed,
	})
	for name, errs := range byName {
		for _, e := range errs[1:] {
			assert.Same(t, errs[0], e, "%s is exported by several packages as different values", name)
		}
	}
}

// TestOneDialectForEveryStore: one constant opens every SQL store of the
// module on one database.
func TestOneDialectForEveryStore(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	defer db.Close()
	d := piiguard.SQLite
	keys, err := sqlstore.New(db, d, sqlstore.Options{})
	require.NoError(t, err)
	require.NoError(t, keys.Migrate(t.Context()))
	sink, err := audit.NewSQLSink(t.Context(), db, d, audit.SQLOptions{})
	require.NoError(t, err)
	require.NoError(t, sink.Record(t.Context(), audit.Event{Time: time.Now(), Action: audit.ActionReveal}))
	vault, err := sqlvault.New(db, d, sqlvault.Options{})
	require.NoError(t, err)
	require.NoError(t, vault.Migrate(t.Context()))
	assert.Equal(t, "sqlite", d.String())
	assert.Equal(t, "postgres", piiguard.Postgres.String())
	assert.False(t, piiguard.Dialect(0).Valid())
}
