package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/sqlq"
	"github.com/piiguard/piiguard/kms"
)

// timeLayout is how times are written as text: UTC, always six fractional
// digits, so that the text sorts in time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// normTime returns t as the store keeps it: UTC, truncated to microseconds
// (the precision of PostgreSQL's TIMESTAMPTZ), without a monotonic reading.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// checkTime refuses times a column cannot hold faithfully.
func checkTime(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return errtext.Tagged(kms.ErrInvalidArgument, "%s: year %d outside 1–9999", what, y)
	}
	return nil
}

// formatTime returns t as text; the zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return normTime(t).Format(timeLayout)
}

// parseTime reads what formatTime wrote.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: %w", s, kms.ErrCorrupt)
	}
	return t, nil
}

// timeArg returns t as a query argument: NULL for the zero time, text for
// SQLite, a time.Time for PostgreSQL.
func timeArg(d piiguard.Dialect, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d == piiguard.SQLite {
		return formatTime(t)
	}
	return normTime(t)
}

// nullTime scans a time column of either dialect.
type nullTime struct{ t time.Time }

// Scan implements sql.Scanner.
func (n *nullTime) Scan(src any) error {
	n.t = time.Time{}
	switch v := src.(type) {
	case nil:
		return nil
	case time.Time:
		n.t = v.UTC()
		return nil
	case string:
		t, err := parseTime(v)
		n.t = t
		return err
	case []byte:
		t, err := parseTime(string(v))
		n.t = t
		return err
	}
	return fmt.Errorf("time column holds %T: %w", src, kms.ErrCorrupt)
}

var _ sql.Scanner = (*nullTime)(nil)

// bytesArg makes nil byte slices non-nil, so that they are stored as empty
// BLOB/BYTEA values and never as NULL.
func bytesArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// rebind turns the ? placeholders of q into $1, $2, … for PostgreSQL. The
// queries of this package hold no ? other than placeholders.
func rebind(d piiguard.Dialect, q string) string {
	if d != piiguard.Postgres {
		return q
	}
	return sqlq.Numbered(q)
}

// types returns the column types of the dialect.
func colTypes(d piiguard.Dialect) (blob, text, json, ts, bigint string) {
	if d == piiguard.Postgres {
		return "BYTEA", "TEXT", "JSONB", "TIMESTAMPTZ", "BIGINT"
	}
	return "BLOB", "TEXT", "TEXT", "TEXT", "INTEGER"
}
