package audit

import (
	"context"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"
)

// Query selects events for incident response and privacy requests: "who
// accessed subject X's data between T1 and T2", "what did principal P reveal
// in that window". Every set member narrows the selection; the zero Query
// matches every event.
type Query struct {
	// SubjectID, when set, selects events about this data subject.
	SubjectID string
	// Actor, when set, selects events by this principal.
	Actor string
	// Actions, when not empty, selects events with one of these actions
	// (see RevealActions and DataActions).
	Actions []Action
	// Decisions, when not empty, selects events with one of these access
	// decisions (DecisionAllow, DecisionMask, DecisionDeny).
	Decisions []string
	// Outcome, when set, selects events with this outcome.
	Outcome Outcome
	// RecordType and Field, when set, select events about this record type
	// and field path. An event about several fields lists them in its
	// Field, comma-separated (package pii reports one event per record):
	// Field selects it when it is one of them. A Field that itself holds a
	// comma matches only an event's whole Field.
	RecordType string
	Field      string
	// Since and Until bound the event time: Since <= Time < Until. A zero
	// bound is open.
	Since time.Time
	Until time.Time
	// Limit, when positive, is the largest number of events returned.
	Limit int
}

// Querier answers a Query. FileSink and SQLSink implement it; events come
// back in the order they were written.
type Querier interface {
	Query(ctx context.Context, q Query) ([]Event, error)
}

// RevealActions returns the actions that disclose protected data (those for
// which IsReveal is true): the actions to query for "who saw subject X's
// data".
func RevealActions() []Action {
	return []Action{ActionReveal, ActionDetokenize, ActionExport}
}

// DataActions returns every action on customer data: reveals, searches,
// erasures and token operations, but no key operation.
func DataActions() []Action {
	return []Action{ActionReveal, ActionSearch, ActionExport, ActionErase, ActionTokenize, ActionDetokenize}
}

// Match reports whether q selects e. It ignores Limit.
func (q Query) Match(e Event) bool {
	switch {
	case q.SubjectID != "" && e.SubjectID != q.SubjectID,
		q.Actor != "" && e.Actor != q.Actor,
		q.Outcome != "" && e.Outcome != q.Outcome,
		q.RecordType != "" && e.RecordType != q.RecordType,
		q.Field != "" && !fieldMatches(e.Field, q.Field),
		len(q.Actions) > 0 && !slices.Contains(q.Actions, e.Action),
		len(q.Decisions) > 0 && !slices.Contains(q.Decisions, e.Decision),
		!q.Since.IsZero() && e.Time.Before(q.Since),
		!q.Until.IsZero() && !e.Time.Before(q.Until):
		return false
	}
	return true
}

// fieldMatches reports whether the event field list got (one field, or
// several comma-separated) names want.
func fieldMatches(got, want string) bool {
	if got == want {
		return true
	}
	if strings.Contains(want, ",") {
		return false
	}
	for f := range strings.SplitSeq(got, ",") {
		if f == want {
			return true
		}
	}
	return false
}

// QueryReader yields the events of an audit stream read from r (plain events
// and chained records; checkpoints are skipped) that q matches, in order, up
// to q.Limit. A line that cannot be decoded yields an error wrapping
// ErrCorrupt that names its line number; the scan goes on after it unless
// the caller stops. It authenticates nothing: see Verify.
func QueryReader(r io.Reader, q Query) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		var (
			p      parsedLine
			lineNo int64
			n      int
		)
		for line, err := range readLines(r) {
			lineNo++
			if err != nil {
				yield(Event{}, fmt.Errorf("%w (line %d)", err, lineNo))
				return
			}
			if err := parseLine(line, &p); err != nil {
				if !yield(Event{}, fmt.Errorf("%w (line %d)", err, lineNo)) {
					return
				}
				continue
			}
			if p.kind == kindCheckpoint || !q.Match(p.event) {
				continue
			}
			if !yield(p.event, nil) {
				return
			}
			if n++; q.Limit > 0 && n >= q.Limit {
				return
			}
		}
	}
}

// QueryFiles runs q over the log at path, all its rotated files included,
// and returns the matching events. It stops at the first corrupt line and
// when ctx is done.
func QueryFiles(ctx context.Context, path string, q Query) ([]Event, error) {
	rc, err := OpenLog(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return collect(ctx, rc, q)
}

// collect runs q over r and gathers the events.
func collect(ctx context.Context, r io.Reader, q Query) ([]Event, error) {
	var out []Event
	for e, err := range QueryReader(r, q) {
		if err != nil {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, ctx.Err()
}
