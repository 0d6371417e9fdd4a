package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/piiguard/piiguard"
)

// DefaultSQLTable is the table of an SQLSink when SQLOptions.Table is empty.
const DefaultSQLTable = "audit_events"

// SQLOptions are the optional settings of an SQLSink. The zero value is
// usable.
type SQLOptions struct {
	// Table is the table name (default DefaultSQLTable): letters, digits
	// and underscores, not starting with a digit.
	Table string
	// SkipCreateTable leaves the table and its indexes alone, for
	// databases whose schema is managed by migrations (see SQLSchema).
	SkipCreateTable bool
	// Label names the database in the messages of the errors that come
	// from it (`audit: sqlite "/var/lib/app/audit.db": storing SQL row: …`):
	// an SQLite file's path, or PostgreSQL's host, port and database name
	// (kms/sqlstore.PostgresLabel derives them from a connection string).
	// It is printed, so it must hold no password: never pass the
	// connection string itself. Default: none, and errors do not name the
	// database.
	Label string
}

// SQLSink stores an audit stream in a table of a database/sql database: one
// row per plain event, chained record or checkpoint, with the event's
// members in columns for queries (indexed by subject and by actor, each with
// the time) and the line itself in column "line", so that a chained log kept
// in SQL verifies like a file (see Lines and VerifyLines). It is a Sink, a
// LineWriter (a Chain writes through it) and a Querier.
//
// Times are stored as Unix nanoseconds (column time_ns), exact in both
// dialects. With SQLite, let one connection write at a time
// (db.SetMaxOpenConns(1)) or set a busy timeout, as for any SQLite writer.
type SQLSink struct {
	db      *sql.DB
	dialect piiguard.Dialect
	table   string
	label   string
	insert  *sql.Stmt
	closed  atomic.Bool
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// eventColumns are the event members stored in columns, in scan order.
const eventColumns = "time_ns, action, outcome, actor, purpose, record_type, field, class, subject_id, decision, reason, key_name, key_id, request_id, trace_id, error"

// SQLSchema returns the statements that create the table of an SQLSink and
// its indexes, for the given dialect and table name.
func SQLSchema(d piiguard.Dialect, table string) ([]string, error) {
	if !tableName.MatchString(table) {
		return nil, errors.New("audit: invalid SQL table name")
	}
	var id string
	switch d {
	case piiguard.SQLite:
		id = "id INTEGER PRIMARY KEY AUTOINCREMENT"
	case piiguard.Postgres:
		id = "id BIGSERIAL PRIMARY KEY"
	default:
		return nil, fmt.Errorf("audit: unknown SQL dialect %d", d)
	}
	text := func(name string) string { return name + " TEXT NOT NULL DEFAULT ''" }
	cols := []string{
		id,
		"kind TEXT NOT NULL",
		"seq BIGINT NOT NULL DEFAULT 0",
		"time_ns BIGINT NOT NULL DEFAULT 0",
		text("action"), text("outcome"), text("actor"), text("purpose"),
		text("record_type"), text("field"), text("class"), text("subject_id"),
		text("decision"), text("reason"), text("key_name"),
		"key_id BIGINT NOT NULL DEFAULT 0",
		text("request_id"), text("trace_id"), text("error"),
		"line TEXT NOT NULL",
	}
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", table, strings.Join(cols, ", ")),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s_subject ON %s (subject_id, time_ns)", table, table),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s_actor ON %s (actor, time_ns)", table, table),
	}, nil
}

// NewSQLSink returns an SQLSink over db, creating its table unless
// opts.SkipCreateTable is set. Close releases its prepared statement; the
// caller keeps ownership of db.
func NewSQLSink(ctx context.Context, db *sql.DB, d piiguard.Dialect, opts SQLOptions) (*SQLSink, error) {
	if opts.Table == "" {
		opts.Table = DefaultSQLTable
	}
	schema, err := SQLSchema(d, opts.Table)
	if err != nil {
		return nil, err
	}
	s := &SQLSink{db: db, dialect: d, table: opts.Table, label: opts.Label}
	if !opts.SkipCreateTable {
		for _, stmt := range schema {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return nil, s.dbErr("creating SQL table", err)
			}
		}
	}
	cols := "kind, seq, " + eventColumns + ", line"
	n := strings.Count(cols, ",") + 1
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", s.table, cols, s.placeholders(1, n))
	if s.insert, err = db.PrepareContext(ctx, q); err != nil {
		return nil, s.dbErr("preparing SQL insert", err)
	}
	return s, nil
}

// dbErr wraps an error of the database: "audit: ", the dialect and label
// when there is a label, and what was being done.
func (s *SQLSink) dbErr(what string, err error) error {
	if s.label == "" {
		return fmt.Errorf("audit: %s: %w", what, err)
	}
	return fmt.Errorf("audit: %s %q: %s: %w", s.dialect, s.label, what, err)
}

// placeholders returns n parameter markers numbered from first.
func (s *SQLSink) placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.param(first + i))
	}
	return b.String()
}

func (s *SQLSink) param(i int) string {
	if s.dialect == piiguard.Postgres {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}

// Record stores e as a plain (unchained) event row.
func (s *SQLSink) Record(ctx context.Context, e Event) error {
	line, err := appendEvent(nil, &e)
	if err != nil {
		return err
	}
	return s.store(ctx, kindEvent, 0, &e, line)
}

// WriteLine stores one line of an audit stream (an event, a chained record
// or a checkpoint, as a Chain writes them), decoding it to fill the columns.
// It implements LineWriter; a line that does not decode is refused with an
// error wrapping ErrCorrupt.
func (s *SQLSink) WriteLine(ctx context.Context, line []byte) error {
	var p parsedLine
	if err := parseLine(line, &p); err != nil {
		return err
	}
	seq := p.seq
	if p.kind == kindCheckpoint {
		seq = p.cp.Seq
	}
	return s.store(ctx, p.kind, seq, &p.event, line)
}

func (s *SQLSink) store(ctx context.Context, kind lineKind, seq uint64, e *Event, line []byte) error {
	if s.closed.Load() {
		return errSinkClosed
	}
	var ns int64
	if !e.Time.IsZero() {
		ns = e.Time.UnixNano()
	}
	_, err := s.insert.ExecContext(ctx,
		kind.String(), int64(seq), ns,
		string(e.Action), string(e.Outcome), e.Actor, e.Purpose,
		e.RecordType, e.Field, e.Class, e.SubjectID,
		e.Decision, e.Reason, e.KeyName, int64(e.KeyID),
		e.RequestID, e.TraceID, e.Error,
		string(line))
	if err != nil {
		return s.dbErr("storing SQL row", err)
	}
	return nil
}

// Query returns the events (plain and chained, not checkpoints) that q
// matches, in the order they were stored. It does not authenticate them:
// verify the log first (Lines, VerifyLines) when the answer is evidence.
func (s *SQLSink) Query(ctx context.Context, q Query) ([]Event, error) {
	where := []string{"kind <> 'checkpoint'"}
	var args []any
	eq := func(col string, v any) {
		args = append(args, v)
		where = append(where, col+" = "+s.param(len(args)))
	}
	in := func(col string, vs []string) {
		marks := make([]string, len(vs))
		for i, v := range vs {
			args = append(args, v)
			marks[i] = s.param(len(args))
		}
		where = append(where, col+" IN ("+strings.Join(marks, ", ")+")")
	}
	if q.SubjectID != "" {
		eq("subject_id", q.SubjectID)
	}
	if q.Actor != "" {
		eq("actor", q.Actor)
	}
	if q.Outcome != "" {
		eq("outcome", string(q.Outcome))
	}
	if q.RecordType != "" {
		eq("record_type", q.RecordType)
	}
	if q.Field != "" {
		// The whole field, or one element of a comma-separated list (see
		// Query.Field).
		args = append(args, q.Field)
		cond := "field = " + s.param(len(args))
		if !strings.Contains(q.Field, ",") {
			if s.dialect == piiguard.Postgres {
				cond += " OR strpos(',' || field || ',', ',' || " + s.param(len(args)) + "::text || ',') > 0"
			} else {
				args = append(args, q.Field)
				cond += " OR instr(',' || field || ',', ',' || " + s.param(len(args)) + " || ',') > 0"
			}
		}
		where = append(where, "("+cond+")")
	}
	if len(q.Actions) > 0 {
		as := make([]string, len(q.Actions))
		for i, a := range q.Actions {
			as[i] = string(a)
		}
		in("action", as)
	}
	if len(q.Decisions) > 0 {
		in("decision", q.Decisions)
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since.UnixNano())
		where = append(where, "time_ns >= "+s.param(len(args)))
	}
	if !q.Until.IsZero() {
		args = append(args, q.Until.UnixNano())
		where = append(where, "time_ns < "+s.param(len(args)))
	}
	stmt := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY id", eventColumns, s.table, strings.Join(where, " AND "))
	if q.Limit > 0 {
		stmt += " LIMIT " + strconv.Itoa(q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, s.dbErr("querying SQL", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e         Event
			ns, keyID int64
		)
		err := rows.Scan(&ns, (*string)(&e.Action), (*string)(&e.Outcome), &e.Actor, &e.Purpose,
			&e.RecordType, &e.Field, &e.Class, &e.SubjectID, &e.Decision, &e.Reason,
			&e.KeyName, &keyID, &e.RequestID, &e.TraceID, &e.Error)
		if err != nil {
			return out, s.dbErr("reading SQL row", err)
		}
		if ns != 0 {
			e.Time = time.Unix(0, ns).UTC()
		}
		e.KeyID = uint32(keyID)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return out, s.dbErr("reading SQL rows", err)
	}
	return out, nil
}

// Lines yields the stored lines in the order they were written, for
// VerifyLines and QueryReader-like scans. A line is valid only until the next
// one is requested.
func (s *SQLSink) Lines(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		rows, err := s.db.QueryContext(ctx, "SELECT line FROM "+s.table+" ORDER BY id")
		if err != nil {
			yield(nil, s.dbErr("querying SQL", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var line sql.RawBytes
			if err := rows.Scan(&line); err != nil {
				yield(nil, s.dbErr("reading SQL row", err))
				return
			}
			if !yield(line, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, s.dbErr("reading SQL rows", err))
		}
	}
}

// Close releases the sink's prepared statement. It does not close the
// database. Calling it again does nothing.
func (s *SQLSink) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.insert.Close(); err != nil {
		return s.dbErr("closing SQL insert", err)
	}
	return nil
}
