package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// sqlStater is implemented by PostgreSQL driver errors (pgconn.PgError,
// lib/pq's Error), so no driver has to be imported to classify them.
type sqlStater interface{ SQLState() string }

// sqliteCoder is implemented by modernc.org/sqlite's *Error.
type sqliteCoder interface{ Code() int }

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	sqlitePerm       = 3
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteReadOnly   = 8
	sqliteInterrupt  = 9
	sqliteCorrupt    = 11
	sqliteCantOpen   = 14
	sqliteProtocol   = 15
	sqliteConstraint = 19
	sqliteAuth       = 23
	sqliteNotADB     = 26

	sqliteConstraintPrimaryKey = sqliteConstraint | 6<<8
	sqliteConstraintUnique     = sqliteConstraint | 8<<8
)

// wrapErr returns err classified under one kms sentinel (or the context's
// error), prefixed with "sqlstore: ", the database (prefix) and what was
// being done. The driver's message is kept: drivers do not echo bound
// parameters, and this package binds every value.
func (s *Store) wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s%s: %w", s.prefix(), op, classify(ctx, s.dialect, err))
}

// prefix begins the message of an error that came from the database:
// "sqlstore: ", and the dialect and Options.Label when there is a label
// (`sqlstore: sqlite "/var/lib/app/keys.db": `).
func (s *Store) prefix() string {
	if s.opts.Label == "" {
		return "sqlstore: "
	}
	return fmt.Sprintf("sqlstore: %s %q: ", s.dialect, s.opts.Label)
}

// classify returns err wrapping the sentinel that describes it.
func classify(ctx context.Context, d piiguard.Dialect, err error) error {
	// A cancelled context often surfaces as a driver error (an interrupted
	// statement, a closed connection): report the context's error.
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if sentinel := sentinelFor(d, err); sentinel != nil {
		if errors.Is(err, sentinel) {
			return err
		}
		if errtext.Says(err, sentinel) {
			// "sql: database is closed", not "closed: sql: database is
			// closed".
			return errtext.Tagged(sentinel, "%w", err)
		}
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}

// sentinelFor returns the kms sentinel for err, or nil when err already
// wraps one or is a context error.
func sentinelFor(d piiguard.Dialect, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if piiguard.ErrorCode(err) != piiguard.CodeInternal || errors.Is(err, kms.ErrBackend) {
		// Already classified by this package.
		return nil
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return kms.ErrNotFound
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return kms.ErrUnavailable
	case strings.Contains(err.Error(), "sql: database is closed"):
		return kms.ErrClosed
	}
	var st sqlStater
	if errors.As(err, &st) {
		if s := postgresSentinel(st.SQLState()); s != nil {
			return s
		}
	}
	var sc sqliteCoder
	if d == piiguard.SQLite && errors.As(err, &sc) {
		if s := sqliteSentinel(sc.Code()); s != nil {
			return s
		}
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return kms.ErrUnavailable
	}
	return kms.ErrBackend
}

// postgresSentinel classifies a SQLSTATE
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func postgresSentinel(code string) error {
	switch code {
	case "23505": // unique_violation
		return kms.ErrAlreadyExists
	case "42501": // insufficient_privilege
		return kms.ErrPermissionDenied
	case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"40001", "40P01", // serialization_failure, deadlock_detected
		"55P03": // lock_not_available
		return kms.ErrUnavailable
	case "XX001", "XX002": // data_corrupted, index_corrupted
		return kms.ErrCorrupt
	}
	if len(code) < 2 {
		return nil
	}
	switch code[:2] {
	case "08", "53": // connection_exception, insufficient_resources
		return kms.ErrUnavailable
	case "28": // invalid_authorization_specification
		return kms.ErrPermissionDenied
	case "22", "23": // data_exception, integrity_constraint_violation
		return kms.ErrInvalidArgument
	}
	return nil
}

// sqliteSentinel classifies an SQLite (extended) result code.
func sqliteSentinel(code int) error {
	switch code {
	case sqliteConstraintPrimaryKey, sqliteConstraintUnique:
		return kms.ErrAlreadyExists
	}
	switch code & 0xff {
	case sqliteBusy, sqliteLocked, sqliteCantOpen, sqliteProtocol, sqliteInterrupt:
		return kms.ErrUnavailable
	case sqlitePerm, sqliteReadOnly, sqliteAuth:
		return kms.ErrPermissionDenied
	case sqliteCorrupt, sqliteNotADB:
		return kms.ErrCorrupt
	case sqliteConstraint:
		return kms.ErrInvalidArgument
	}
	return nil
}
