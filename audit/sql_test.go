package audit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "audit.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLSinkSQLite(t *testing.T) {
	runSQLSinkSuite(t, openSQLite(t), piiguard.SQLite)
}

// runSQLSinkSuite is the behaviour every dialect must show; the PostgreSQL
// integration test runs it too.
func runSQLSinkSuite(t *testing.T, db *sql.DB, d piiguard.Dialect) {
	ctx := context.Background()
	k := newTestKeys(t)

	t.Run("query", func(t *testing.T) {
		s, err := audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit_query"})
		require.NoError(t, err)
		defer s.Close()
		c, err := audit.NewChain(s, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 9})
		require.NoError(t, err)
		for i := range 60 {
			if i%2 == 0 {
				require.NoError(t, c.Record(ctx, testEvent(i)))
			} else {
				require.NoError(t, s.Record(ctx, testEvent(i)))
			}
		}
		checkQueries(t, func(q audit.Query) ([]audit.Event, error) { return s.Query(ctx, q) })
	})

	t.Run("field lists", func(t *testing.T) {
		s, err := audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit_fields"})
		require.NoError(t, err)
		defer s.Close()
		for _, e := range fieldListEvents() {
			require.NoError(t, s.Record(ctx, e))
		}
		checkFieldListQueries(t, func(q audit.Query) ([]audit.Event, error) { return s.Query(ctx, q) })
	})

	t.Run("chain verifies and tampering is detected", func(t *testing.T) {
		s, err := audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit_chain"})
		require.NoError(t, err)
		defer s.Close()
		c, err := audit.NewChain(s, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 10})
		require.NoError(t, err)
		for i := range 25 {
			require.NoError(t, c.Record(ctx, testEvent(i)))
		}
		require.NoError(t, c.Close(ctx))
		var visited []audit.Event
		rep, err := audit.VerifyLines(s.Lines(ctx), k.MAC, k.Verifier, audit.VerifyOptions{
			CheckpointEvery: 10,
			Visit:           func(_ uint64, e audit.Event) { visited = append(visited, e) },
		})
		require.NoError(t, err)
		assert.Equal(t, uint64(25), rep.Records)
		assert.Equal(t, 3, rep.Checkpoints)
		assert.Equal(t, testEvent(24), visited[24])

		_, err = db.ExecContext(ctx, `UPDATE audit_chain SET line = REPLACE(line, '"actor":"user-0"', '"actor":"user-9"') WHERE seq = 8 AND kind = 'record'`)
		require.NoError(t, err)
		_, err = audit.VerifyLines(s.Lines(ctx), k.MAC, k.Verifier, audit.VerifyOptions{})
		requireVerifyError(t, err, audit.ErrTampered, 8, 8)

		_, err = db.ExecContext(ctx, `DELETE FROM audit_chain WHERE seq = 3 AND kind = 'record'`)
		require.NoError(t, err)
		_, err = audit.VerifyLines(s.Lines(ctx), k.MAC, k.Verifier, audit.VerifyOptions{})
		requireVerifyError(t, err, audit.ErrTampered, 3, 4)
	})

	t.Run("refuses corrupt lines and bad names", func(t *testing.T) {
		s, err := audit.NewSQLSink(ctx, db, d, audit.SQLOptions{})
		require.NoError(t, err)
		assert.ErrorIs(t, s.WriteLine(ctx, []byte(`{"v":1}`)), audit.ErrCorrupt)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close is idempotent")
		assert.ErrorIs(t, s.Record(ctx, testEvent(0)), audit.ErrClosed)

		_, err = audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit; DROP TABLE x"})
		assert.Error(t, err)
		_, err = audit.NewSQLSink(ctx, db, piiguard.Dialect(9), audit.SQLOptions{})
		assert.Error(t, err)
		_, err = audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit_missing", SkipCreateTable: true})
		assert.Error(t, err, "the insert cannot be prepared without the table")
	})

	t.Run("query and lines honour a cancelled context", func(t *testing.T) {
		s, err := audit.NewSQLSink(ctx, db, d, audit.SQLOptions{Table: "audit_cancel"})
		require.NoError(t, err)
		defer s.Close()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Query(cctx, audit.Query{})
		assert.Error(t, err)
		for _, err := range s.Lines(cctx) {
			assert.Error(t, err)
		}
	})
}

func TestSQLSchemaNamesDialects(t *testing.T) {
	for _, d := range []piiguard.Dialect{piiguard.SQLite, piiguard.Postgres} {
		stmts, err := audit.SQLSchema(d, "t")
		require.NoError(t, err)
		assert.Len(t, stmts, 3)
	}
	assert.Equal(t, "sqlite", piiguard.SQLite.String())
	assert.Equal(t, "postgres", piiguard.Postgres.String())
	assert.Equal(t, "Dialect(7)", piiguard.Dialect(7).String())
}
