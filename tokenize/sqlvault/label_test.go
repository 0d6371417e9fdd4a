package sqlvault

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/tokenize"
)

func TestSQLStoreErrorsNameTheDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.db")
	st, err := OpenSQLite(path, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	v, err := tokenize.NewVault(newKeyring(t), st, allowAll(tokenize.VaultOptions{}))
	require.NoError(t, err)
	want := fmt.Sprintf("token store error: sqlite %q: ", path)

	// The table dropped behind the store's back.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("DROP TABLE " + DefaultTable)
	require.NoError(t, err)
	_, err = v.Tokenize(ctx, "email", "lucy@example.com")
	require.ErrorIs(t, err, tokenize.ErrStore)
	assert.Contains(t, err.Error(), want)
	assert.Contains(t, err.Error(), "no such table")
	assert.NotContains(t, err.Error(), "lucy@example.com")

	// A file that is not a database.
	bad := filepath.Join(dir, "not-a-database.db")
	require.NoError(t, os.WriteFile(bad, []byte("this is not an SQLite database file, only some text in it"), 0o600))
	_, err = OpenSQLite(bad, Options{})
	require.ErrorIs(t, err, tokenize.ErrStore)
	assert.ErrorContains(t, err, fmt.Sprintf("sqlvault: migrate: token store error: sqlite %q: ", bad))

	// A closed database, labelled by the caller.
	closed, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	st, err = New(closed, piiguard.SQLite, Options{Label: "tokens.db"})
	require.NoError(t, err)
	err = st.Migrate(ctx)
	require.ErrorIs(t, err, tokenize.ErrStore)
	assert.Equal(t, `sqlvault: migrate: token store error: sqlite "tokens.db": sql: database is closed`, err.Error())

	// Without a label, the dialect alone, as before.
	st, err = New(closed, piiguard.SQLite, Options{})
	require.NoError(t, err)
	assert.ErrorContains(t, st.Migrate(ctx), "token store error: sqlite: sql: database is closed")
}
