package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
)

func TestSQLSinkErrorsNameTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	want := fmt.Sprintf("audit: sqlite %q: ", path)

	_, err = audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{Table: "missing", SkipCreateTable: true, Label: path})
	require.Error(t, err)
	assert.Contains(t, err.Error(), want+"preparing SQL insert: ")
	assert.Contains(t, err.Error(), "no such table")
	var coded interface{ Code() int }
	assert.ErrorAs(t, err, &coded, "the driver's error stays wrapped")

	s, err := audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{Label: path})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Record(ctx, testEvent(1)))
	_, err = db.ExecContext(ctx, "DROP TABLE "+audit.DefaultSQLTable)
	require.NoError(t, err)
	_, err = s.Query(ctx, audit.Query{})
	assert.ErrorContains(t, err, want+"querying SQL: ")
	for _, err := range s.Lines(ctx) {
		assert.ErrorContains(t, err, want+"querying SQL: ")
	}
	assert.ErrorContains(t, s.Record(ctx, testEvent(2)), want+"storing SQL row: ")

	require.NoError(t, db.Close())
	_, err = audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{Label: path})
	assert.ErrorContains(t, err, want+"creating SQL table: ")

	_, err = audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{})
	assert.ErrorContains(t, err, "audit: creating SQL table: ", "no label, no name")
}
