package pii

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// maxStatedReason bounds the break-glass reason copied into an event.
const maxStatedReason = 256

// eventGroup gathers the fields of the record being opened that got one
// effect, for that record's one event of that effect.
type eventGroup struct {
	fields    []byte            // field paths, comma-separated, in walk order
	classes   []string          // distinct classes, in order
	decisions []access.Decision // distinct reasons, in order
	keyNames  []string          // distinct key names, in order
	keyID     uint32            // the fields' key version, or 0 if they differ
}

func (g *eventGroup) reset() {
	clear(g.classes)
	clear(g.decisions)
	clear(g.keyNames)
	*g = eventGroup{fields: g.fields[:0], classes: g.classes[:0], decisions: g.decisions[:0], keyNames: g.keyNames[:0]}
}

// note adds the decision d about field lf, at path, to the current
// record's event of that effect: a reveal (allow), a mask or a denial.
// flushEvents queues the record's events once all its fields are decided;
// report records them before the record changes.
func (w *walker) note(lf *leaf, path string, d access.Decision, keyName string, keyID uint32) {
	if w.p.opts.Audit == nil {
		return
	}
	g := &w.groups[d.Effect]
	if len(g.fields) == 0 {
		g.keyID = keyID
	} else {
		g.fields = append(g.fields, ',')
		if g.keyID != keyID {
			g.keyID = 0
		}
	}
	g.fields = append(g.fields, path...)
	if !slices.Contains(g.classes, string(lf.class)) {
		g.classes = append(g.classes, string(lf.class))
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

// flushEvents queues the events of the record just walked, one per effect
// that any of its fields got (allow, then mask, then deny), and resets the
// groups for the next record.
func (w *walker) flushEvents() {
	for _, eff := range [...]access.Effect{access.Allow, access.Mask, access.Deny} {
		g := &w.groups[eff]
		if len(g.fields) == 0 {
			continue
		}
		e := w.gate.event
		e.Outcome = audit.OutcomeSuccess
		e.RecordType, e.SubjectID, e.KeyID = w.rec, w.id, g.keyID
		e.Decision = decisionName(eff)
		// One string holds the event's lists, so that the event costs one
		// allocation: fields | classes | key names | reasons.
		b := append(w.scratch[:0], g.fields...)
		ends := [4]int{len(b)}
		b = appendJoined(b, g.classes, ",")
		ends[1] = len(b)
		b = appendJoined(b, g.keyNames, ",")
		ends[2] = len(b)
		for i, d := range g.decisions {
			if i > 0 {
				b = append(b, " | "...)
			}
			b = append(b, w.gate.reason(d)...)
		}
		ends[3] = len(b)
		w.scratch = b
		// The records of a page mostly get the same lists: share the
		// previous record's string then.
		all := w.lastLists[eff]
		if all != string(b) {
			all = string(b)
			w.lastLists[eff] = all
		}
		e.Field, e.Class, e.KeyName, e.Reason = all[:ends[0]], all[ends[0]:ends[1]], all[ends[1]:ends[2]], all[ends[2]:ends[3]]
		if eff == access.Deny {
			e.Outcome, e.Error = audit.OutcomeFailure, string(kms.CodePermissionDenied)
		}
		w.events = append(w.events, e)
		g.reset()
	}
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
func (g *gate) reason(d access.Decision) string {
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
	stated := g.req.BreakGlass
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

// report records the queued events; if the sink refuses one, the call fails
// (ErrAudit) and nothing is revealed.
func (w *walker) report() error {
	for _, e := range w.events {
		if err := w.p.opts.Audit.Record(w.ctx, e); err != nil {
			return fieldErr(e.RecordType, e.Field, fmt.Errorf("%w: %w", ErrAudit, err))
		}
	}
	return nil
}

// reportFailure records a failed Open of one field, as well as it can.
func (w *walker) reportFailure(err error) {
	if w.mode != modeOpen || w.p.opts.Audit == nil {
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return
	}
	e := w.gate.event
	e.Outcome = audit.OutcomeFailure
	e.RecordType, e.Field, e.SubjectID = fe.RecordType, fe.Path, w.id
	e.KeyName = w.p.opts.FieldKeyset
	e.Error = errorCode(err)
	if g := &w.gate; g.denied && g.deniedAt == fe.Path {
		e.Decision, e.Reason, e.Class = audit.DecisionDeny, g.reason(g.denial), string(g.deniedClass)
	}
	_ = w.p.opts.Audit.Record(w.ctx, e)
}

// errorCode is the class of an error for an audit event.
func errorCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{access.ErrDenied, string(kms.CodePermissionDenied)}, {ErrAccessCheck, "access_check"},
		{ErrInvalidCiphertext, "invalid_ciphertext"}, {ErrUnsupportedFormat, "unsupported_format"},
		{ErrPlaintext, "plaintext"}, {ErrMissingID, "missing_id"}, {ErrCycle, "cycle"},
		{ErrTooLarge, "too_large"}, {ErrUnsupportedType, "unsupported_type"}, {ErrNoTokenizer, "no_tokenizer"},
		{ErrInvalidRecord, "invalid_record"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return string(kms.ErrorCode(err))
}

// searchEvent is the audit event of a SearchTerms call.
func searchEvent(ctx context.Context, record, field string, class Class, keyName string, keyID uint32) audit.Event {
	req := access.NewRequest(ctx, access.ActionSearch, access.Resource{})
	e := baseEvent(ctx, req.Principal.ID, string(req.Purpose))
	e.Action, e.Outcome = audit.ActionSearch, audit.OutcomeSuccess
	e.RecordType, e.Field, e.Class = record, field, string(class)
	e.KeyName, e.KeyID = keyName, keyID
	return e
}
