package pii

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
)

// maxStatedReason bounds the break-glass reason copied into an event.
const maxStatedReason = 256

// revealEvents are the audit events of one Open or OpenAll call: one per
// record and decision (allow, mask, deny), listing the fields that got it.
// They are gathered only for a sink that records them (not for nil or
// audit.Discard), queued record by record, and reported before the call
// changes anything.
type revealEvents struct {
	on         bool   // there is a sink
	call       caller // the call's part of every event
	breakGlass string // the reason the principal stated, if any

	groups [3]eventGroup // the current record's decisions, by access.Effect
	// The lists of the last event of each effect: the records of a page,
	// and the calls of a service, mostly get the same lists, which then
	// cost no allocation. They name fields, classes, keys and reasons,
	// never a value, and are kept from call to call.
	lastLists [3]string
	queued    chunkList[queuedEvent]
	scratch   []byte

	// A denial that failed a strict Open, for its failure event.
	denial      access.Decision
	deniedAt    string // the field path; "" for none
	deniedClass Class
}

// caller is what the events of a call share: when, who, why, and the
// request.
type caller struct {
	time                      time.Time
	actor, purpose, requestID string
}

// event returns the call's event of action a.
func (c *caller) event(a audit.Action) audit.Event {
	return audit.Event{Time: c.time, Action: a, Actor: c.actor, Purpose: c.purpose, RequestID: c.requestID}
}

// eventGroup gathers the fields of the record being opened that got one
// effect, for that record's one event of that effect.
type eventGroup struct {
	fields    []byte            // field paths, comma-separated, in walk order
	classes   []string          // distinct classes, in order
	decisions []access.Decision // distinct reasons, in order
	keyNames  []string          // distinct key names, in order
	keyID     uint32            // the fields' key version, or 0 if they differ
}

// queuedEvent is what an event holds beyond the call's part: its lists
// share one string, lists[:ends[0]] the fields, then the classes, the key
// names, and from ends[2] the reasons.
type queuedEvent struct {
	subject string
	lists   string
	ends    [3]int32
	keyID   uint32
	effect  access.Effect
}

var eventChunks = sync.Pool{New: func() any { return new(chunk[queuedEvent]) }}

// begin prepares e for a call that makes request req and reports to sink.
func (e *revealEvents) begin(ctx context.Context, sink audit.Sink, req *access.Request) {
	e.on = sink != nil
	if !e.on {
		return
	}
	base := audit.FromContext(ctx, audit.Event{Actor: req.Principal.ID})
	e.call = caller{time: time.Now().UTC(), actor: base.Actor, purpose: string(req.Purpose), requestID: base.RequestID}
	e.breakGlass = req.BreakGlass
}

// end drops what e holds of a call, keeping its buffers.
func (e *revealEvents) end() {
	if !e.on {
		return // begin gathered nothing
	}
	for i := range e.groups {
		if len(e.groups[i].fields) > 0 { // flush resets the groups of the records it queues
			e.groups[i].reset()
		}
	}
	e.queued.reset(&eventChunks)
	e.on, e.call, e.breakGlass = false, caller{}, ""
	e.denial, e.deniedAt, e.deniedClass = access.Decision{}, "", ""
	e.scratch = e.scratch[:0]
}

// reset empties g for the next record. Classes and key names come from
// the plan and the Options; the decisions' reasons come from the Checker,
// and are cleared.
func (g *eventGroup) reset() {
	clear(g.decisions)
	g.fields, g.classes, g.decisions, g.keyNames, g.keyID = g.fields[:0], g.classes[:0], g.decisions[:0], g.keyNames[:0], 0
}

// note adds the decision d about the field of step s, at path, to the
// current record's event of that effect: a reveal (allow), a mask or a
// denial.
func (e *revealEvents) note(s *step, path string, d access.Decision, keyName string, keyID uint32) {
	if !e.on {
		return
	}
	g := &e.groups[d.Effect]
	if len(g.fields) == 0 {
		g.keyID = keyID
	} else {
		g.fields = append(g.fields, ',')
		if g.keyID != keyID {
			g.keyID = 0
		}
	}
	g.fields = append(g.fields, path...)
	if class := string(s.leaf.class); !slices.Contains(g.classes, class) {
		g.classes = append(g.classes, class)
	}
	if !slices.Contains(g.keyNames, keyName) {
		g.keyNames = append(g.keyNames, keyName)
	}
	if !slices.ContainsFunc(g.decisions, func(o access.Decision) bool {
		return o.Reason == d.Reason && o.Rule == d.Rule && o.Alert == d.Alert
	}) {
		g.decisions = append(g.decisions, d)
	}
}

// flush queues the events of the record just walked, whose ID is subject
// ("" if it was not read), one per effect that any of its fields got
// (allow, then mask, then deny), and resets the groups for the next record.
func (e *revealEvents) flush(subject string) {
	if !e.on {
		return
	}
	for _, eff := range [...]access.Effect{access.Allow, access.Mask, access.Deny} {
		g := &e.groups[eff]
		if len(g.fields) == 0 {
			continue
		}
		// One string holds the event's lists, so that the event costs one
		// allocation: fields | classes | key names | reasons.
		b := append(e.scratch[:0], g.fields...)
		var ends [3]int32
		ends[0] = int32(len(b))
		b = appendJoined(b, g.classes, ",")
		ends[1] = int32(len(b))
		b = appendJoined(b, g.keyNames, ",")
		ends[2] = int32(len(b))
		for i, d := range g.decisions {
			if i > 0 {
				b = append(b, " | "...)
			}
			b = append(b, e.reason(d)...)
		}
		e.scratch = b
		// The records of a page mostly get the same lists: share the
		// previous record's string then.
		if e.lastLists[eff] != string(b) {
			e.lastLists[eff] = string(b)
		}
		e.queued.push(&eventChunks, queuedEvent{subject: subject, lists: e.lastLists[eff], ends: ends, keyID: g.keyID, effect: eff})
		g.reset()
	}
}

// report records the queued events of a call over records named rec; if
// the sink refuses one, the call fails (ErrAudit) and nothing is revealed.
func (e *revealEvents) report(ctx context.Context, sink audit.Sink, rec string) error {
	if !e.on {
		return nil
	}
	var err error
	e.queued.each(func(q *queuedEvent) {
		if err != nil {
			return
		}
		ev := e.call.event(audit.ActionReveal)
		ev.Outcome = audit.OutcomeSuccess
		ev.RecordType, ev.SubjectID, ev.KeyID = rec, q.subject, q.keyID
		ev.Decision = decisionName(q.effect)
		ev.Field, ev.Class = q.lists[:q.ends[0]], q.lists[q.ends[0]:q.ends[1]]
		ev.KeyName, ev.Reason = q.lists[q.ends[1]:q.ends[2]], q.lists[q.ends[2]:]
		if q.effect == access.Deny {
			ev.Outcome, ev.Error = audit.OutcomeFailure, string(piiguard.CodeDenied)
		}
		if rerr := sink.Record(ctx, ev); rerr != nil {
			err = fieldErr(ev.RecordType, ev.Field, fmt.Errorf("%w: %w", ErrAudit, rerr))
		}
	})
	return err
}

// denied notes the denial d of the field of step s, at path, that fails a
// strict Open.
func (e *revealEvents) denied(s *step, path string, d access.Decision) {
	if e.on {
		e.denial, e.deniedAt, e.deniedClass = d, path, s.leaf.class
	}
}

// failed records the failure of a call at one field, as well as it can:
// err, for the record whose ID is subject, under key keyName.
func (e *revealEvents) failed(ctx context.Context, sink audit.Sink, err error, subject, keyName string) {
	if !e.on {
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return
	}
	ev := e.call.event(audit.ActionReveal)
	ev.Outcome = audit.OutcomeFailure
	ev.RecordType, ev.Field, ev.SubjectID = fe.RecordType, fe.Path, subject
	ev.KeyName = keyName
	ev.Error = errorCode(err)
	if e.deniedAt != "" && e.deniedAt == fe.Path {
		ev.Decision, ev.Reason, ev.Class = audit.DecisionDeny, e.reason(e.denial), string(e.deniedClass)
	}
	_ = sink.Record(ctx, ev)
}

// appendJoined appends ss joined with sep to b.
func appendJoined(b []byte, ss []string, sep string) []byte {
	for i, s := range ss {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, s...)
	}
	return b
}

// decisionName maps an effect to audit's decision names.
func decisionName(e access.Effect) string {
	switch e {
	case access.Allow:
		return audit.DecisionAllow
	case access.Mask:
		return audit.DecisionMask
	}
	return audit.DecisionDeny
}

// reason is the Reason of the event of decision d. A break-glass decision
// (Alert) is marked "break-glass" at the start and carries the reason the
// principal stated, the one free text in this package's events (see the
// package documentation).
func (e *revealEvents) reason(d access.Decision) string {
	r := d.Reason
	if r == "" && d.Rule != "" {
		r = "rule " + strconv.Quote(d.Rule)
	}
	if !d.Alert {
		return r
	}
	if !strings.HasPrefix(r, "break-glass") {
		r = "break-glass alert: " + r
	}
	stated := e.breakGlass
	if stated == "" {
		return r
	}
	if len(stated) > maxStatedReason {
		n := maxStatedReason
		for n > 0 && !utf8.RuneStart(stated[n]) {
			n--
		}
		stated = stated[:n] + "…"
	}
	return r + "; stated reason: " + strconv.Quote(stated)
}

// searchEvent is the audit event of a SearchTerms call.
func searchEvent(ctx context.Context, record, field string, class Class, keyName string, keyID uint32) audit.Event {
	req := access.NewRequest(ctx, access.ActionSearch, access.Resource{})
	e := audit.FromContext(ctx, audit.Event{Time: time.Now().UTC(), Actor: req.Principal.ID, Purpose: string(req.Purpose)})
	e.Action, e.Outcome = audit.ActionSearch, audit.OutcomeSuccess
	e.RecordType, e.Field, e.Class = record, field, string(class)
	e.KeyName, e.KeyID = keyName, keyID
	return e
}
