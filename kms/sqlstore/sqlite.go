package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"time"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/kms"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqlitePragmas are set on every connection OpenSQLite opens:
//
//   - busy_timeout: a writer waits up to 10 s for another connection's or
//     process's write lock instead of failing with SQLITE_BUSY;
//   - journal_mode=WAL: readers do not block the writer nor it them;
//   - synchronous=FULL: a committed rotation survives a power loss (with
//     NORMAL, WAL may lose the last commits, and with them keys already
//     used to encrypt data);
//   - foreign_keys and secure_delete: hygiene; secure_delete zeroes freed
//     pages, so destroyed subject keys do not linger in the file.
const sqlitePragmas = "_pragma=busy_timeout(10000)" + // sqliteBusyTimeout
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=secure_delete(1)"

const sqliteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the SQLite database file at path
// with the pure-Go modernc.org/sqlite driver, in WAL mode with a busy
// timeout so that several Stores and processes can share the file, and
// creates the tables. Close the Store to close the database.
//
// A file it creates has mode 0600 (owner only, whatever the umask), as
// have the -wal and -shm files SQLite makes beside it; an existing file
// keeps its mode. Errors from the database name the file (Options.Label is
// path).
func OpenSQLite(path string) (*Store, error) {
	if path == "" {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "sqlstore: open sqlite: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite %q: %w", path, kms.ErrInvalidArgument)
	}
	// SQLite would create the file with mode 0644 (less the umask). A
	// failure here (a missing directory, say) is SQLite's to report.
	_, _ = fsutil.CreatePrivate(abs)
	// A file: URI, with the path escaped so that '?', '#' and '%' in it
	// stay part of the name.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + sqlitePragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s %q: open: %w", piiguard.SQLite, path, classify(context.Background(), piiguard.SQLite, err))
	}
	s, err := New(db, piiguard.SQLite, Options{Label: path})
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	// A local file: no network, so no caller context is needed. The store
	// is not shared yet, so its lock is not needed either.
	if err := migrateSQLiteFile(s); err != nil {
		db.Close()
		return nil, fmt.Errorf("%sopen: %w", s.prefix(), err)
	}
	s.schemaOK.Store(true)
	return s, nil
}

// migrateSQLiteFile runs the migrations, retrying while the file is busy.
// A connection that switches a new file to WAL needs an exclusive lock, and
// SQLite answers SQLITE_BUSY at once, without waiting busy_timeout, when
// two connections race to do it; once the file is in WAL mode, opening
// connections takes no such lock.
func migrateSQLiteFile(s *Store) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := s.migrate(context.Background())
		if err == nil || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5*time.Millisecond + rand.N(20*time.Millisecond))
	}
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED.
func isSQLiteBusy(err error) bool {
	var sc sqliteCoder
	if !errors.As(err, &sc) {
		return false
	}
	c := sc.Code() & 0xff
	return c == sqliteBusy || c == sqliteLocked
}
