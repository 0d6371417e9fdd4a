package sqlvault

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for OpenSQLite

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/tokenize"
)

// sqlitePragmas are set on every connection OpenSQLite opens: wait up to
// 10 s for a lock, WAL (readers and the writer do not block each other),
// FULL synchronous (a token handed out survives a power loss) and
// secure_delete (deleted rows are zeroed in the file, for erasure).
const sqlitePragmas = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=secure_delete(1)"

// OpenSQLite opens (creating if needed) an SQLite token store in the file
// at path with the embedded modernc.org/sqlite driver, and creates its
// table. Close the store to close the database.
//
// A file it creates has mode 0600 (owner only, whatever the umask), as
// have the -wal and -shm files SQLite makes beside it; an existing file
// keeps its mode. Errors from the database name the file: opts.Label is
// set to path unless it is set already.
func OpenSQLite(path string, opts Options) (*Store, error) {
	const op = "open sqlite"
	if path == "" {
		return nil, opErr(op, errf(tokenize.ErrInvalidOptions, "empty path"))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, opErr(op, errf(tokenize.ErrInvalidOptions, "bad path"))
	}
	if opts.Label == "" {
		opts.Label = path
	}
	// SQLite would create the file with mode 0644 (less the umask). A
	// failure here (a missing directory, say) is SQLite's to report.
	_, _ = fsutil.CreatePrivate(abs)
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + sqlitePragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, opErr(op, fmt.Errorf("%w: %s %q: %v", tokenize.ErrStore, piiguard.SQLite, opts.Label, err))
	}
	s, err := New(db, piiguard.SQLite, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	if err := s.Migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
