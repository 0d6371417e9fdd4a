package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
)

// gate holds what one Open or OpenAll call needs to decide access and to
// report events: the parts of the request and of the events that come from
// the context, read once per call, and the decisions made so far.
type gate struct {
	checker access.Checker   // Options.Checker
	req     access.Request   // principal, purpose, break-glass; action reveal
	prep    *access.Prepared // the Checker, prepared for req; kept by the pool
	event   audit.Event      // time, action, actor, purpose, request ID

	// The decisions of this call, when they are worth remembering (not for
	// access.InsecureAllowAll): for each leaf of the plan (by leaf.slot),
	// 1 + the index in memo of its latest decision, 0 for none; each entry
	// links to the leaf's previous one. A decision is found again by the
	// field's path and the per-record parts of the request the Checker
	// reads (reads); the rest of the request is the same for the call.
	remember bool
	reads    access.RecordInputs
	slots    []int32
	memo     []memoEntry

	// A denial that failed a strict Open, for its failure event.
	denied      bool
	denial      access.Decision
	deniedAt    string // the field path
	deniedClass Class
}

// memoEntry is a decision of the call about one field. The owner, subject
// and tenant are "" when the Checker does not read them.
type memoEntry struct {
	path, owner, subject, tenant string
	d                            access.Decision
	next                         int32 // 1 + the index of the leaf's previous entry, or 0
}

// maxMemo bounds the decisions a call remembers; past it, fields are
// decided without being remembered.
const maxMemo = 4096

// init prepares g for a call that walks records of plan rp. repeats says
// whether the call may ask a question twice (several records, or slices
// and maps of nested records); for one flat record every field is a
// different question and remembering would only cost.
func (g *gate) init(ctx context.Context, p *Protector, rp *rootPlan, repeats bool) {
	g.checker = p.opts.Checker
	g.req = access.NewRequest(ctx, access.ActionReveal, access.Resource{})
	now := time.Now()
	g.event = audit.FromContext(ctx, audit.Event{Time: now.UTC(), Action: audit.ActionReveal, Actor: g.req.Principal.ID, Purpose: string(g.req.Purpose)})
	if g.prep == nil {
		g.prep = new(access.Prepared)
	}
	g.prep.ResetAt(g.checker, g.req, now) // one reading of the clock per call
	g.remember = repeats && !p.allowAll
	if g.remember {
		g.reads = recordInputs(g.checker)
		g.slots = slices.Grow(g.slots[:0], rp.slots)[:rp.slots]
		clear(g.slots)
		g.memo = g.memo[:0]
	}
}

// buffers drops what g holds of a call and returns the buffers it keeps
// for the pool.
func (g *gate) buffers() (*access.Prepared, []int32, []memoEntry) {
	if g.checker != nil { // an Open
		clear(g.memo)
		g.prep.Reset(nil, access.Request{})
	}
	return g.prep, g.slots[:0], g.memo[:0]
}

// recordInputs returns what c says it reads of a record, or everything.
func recordInputs(c access.Checker) access.RecordInputs {
	if r, ok := c.(access.RecordInputReporter); ok {
		return r.RecordInputs()
	}
	return access.RecordInputs{OwnerID: true, SubjectID: true, Tenant: true}
}

// check returns the Checker's decision about field lf, at path, of a
// record of type rec with the given owner, subject and tenant: the
// remembered one when the call has asked the same question before.
// Errors are not remembered.
func (g *gate) check(ctx context.Context, rec string, lf *leaf, path, owner, subject, tenant string) (access.Decision, error) {
	if !g.remember {
		return g.ask(ctx, rec, lf, path, owner, subject, tenant)
	}
	ko, ks, kt := owner, subject, tenant
	if !g.reads.OwnerID {
		ko = ""
	}
	if !g.reads.SubjectID {
		ks = ""
	}
	if !g.reads.Tenant {
		kt = ""
	}
	for i := g.slots[lf.slot]; i != 0; {
		e := &g.memo[i-1]
		if e.path == path && e.owner == ko && e.subject == ks && e.tenant == kt {
			return e.d, nil
		}
		i = e.next
	}
	d, err := g.ask(ctx, rec, lf, path, owner, subject, tenant)
	if err == nil && len(g.memo) < maxMemo {
		g.memo = append(g.memo, memoEntry{path: path, owner: ko, subject: ks, tenant: kt, d: d, next: g.slots[lf.slot]})
		g.slots[lf.slot] = int32(len(g.memo))
	}
	return d, err
}

// ask asks the Checker about field lf, at path.
func (g *gate) ask(ctx context.Context, rec string, lf *leaf, path, owner, subject, tenant string) (access.Decision, error) {
	return g.prep.CheckResource(ctx, access.Resource{
		RecordType: rec, Field: path, Kind: string(lf.kind), Class: string(lf.class),
		OwnerID: owner, SubjectID: subject, Tenant: tenant,
	})
}

// isInsecureAllowAll reports whether c is access.InsecureAllowAll, whose
// decisions cost less than remembering them. It compares code pointers: a
// false positive would only make a call remember no decisions, never change a
// decision.
func isInsecureAllowAll(c access.Checker) bool {
	f, ok := c.(access.CheckerFunc)
	g, ok2 := access.InsecureAllowAll.(access.CheckerFunc)
	return ok && ok2 && reflect.ValueOf(f).Pointer() == reflect.ValueOf(g).Pointer()
}

// baseEvent returns an event stamped now with the actor (the principal's
// ID, else audit.ActorFrom), the purpose and the request ID of ctx.
func baseEvent(ctx context.Context, principal, purpose string) audit.Event {
	return audit.FromContext(ctx, audit.Event{Time: time.Now().UTC(), Actor: principal, Purpose: purpose})
}

// decide asks the Checker whether the field lf, at path, of the record
// being walked may be revealed to the principal of the call. A missing
// principal is a Deny. Any other error of the Checker fails the call
// (ErrAccessCheck), as does a Deny under Options.StrictAccess (an error
// wrapping access.ErrDenied).
func (w *walker) decide(lf *leaf, path string) (access.Decision, error) {
	g := &w.gate
	owner, tenant, err := w.ownerAndTenant()
	if err != nil {
		return access.Decision{}, err
	}
	id, _ := w.recordID() // token fields may open without an ID; then none
	d, err := g.check(w.ctx, w.rec, lf, path, owner, id, tenant)
	switch {
	case err == nil:
	case errors.Is(err, access.ErrNoPrincipal):
		d = access.Decision{Effect: access.Deny, Reason: "no principal", Rule: d.Rule}
	default:
		return access.Decision{}, fieldErr(w.rec, path, fmt.Errorf("%w: %w", ErrAccessCheck, err))
	}
	if d.Effect != access.Allow && d.Effect != access.Mask {
		d.Effect = access.Deny // an unknown effect fails closed
	}
	if d.Effect == access.Deny && w.p.opts.StrictAccess {
		g.denied, g.denial, g.deniedAt, g.deniedClass = true, d, path, lf.class
		derr := d.Err()
		if errors.Is(err, access.ErrNoPrincipal) {
			derr = fmt.Errorf("%w: %w", access.ErrDenied, access.ErrNoPrincipal)
		}
		return d, fieldErr(w.rec, path, derr)
	}
	return d, nil
}

// withhold zeroes the denied field fv and notes the denial.
func (w *walker) withhold(lf *leaf, fv reflect.Value, path string, d access.Decision, keyName string, keyID uint32) {
	w.pending = append(w.pending, assign{op: setZero, dst: fv})
	w.note(lf, path, d, keyName, keyID)
}
