package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
)

// gate holds what one Open or OpenAll call needs to decide access and to
// report events: the parts of the request and of the events that come from
// the context, read once per call.
type gate struct {
	checker access.Checker // Options.Checker, or a Memo over it
	req     access.Request // principal, purpose, break-glass; action reveal
	event   audit.Event    // time, action, actor, purpose, request ID

	// A denial that failed a strict Open, for its failure event.
	denied      bool
	denial      access.Decision
	deniedAt    string // the field path
	deniedClass Class
}

// init prepares g for a call. memo asks for an access.Memo: worth it when
// one call can ask the same question twice (several records, slices and
// maps of nested records); for one flat record every field is a different
// question and a Memo would only cost.
func (g *gate) init(ctx context.Context, p *Protector, memo bool) {
	g.checker = p.opts.Checker
	if memo && !p.allowAll {
		g.checker = access.NewMemo(g.checker)
	}
	g.req = access.NewRequest(ctx, access.ActionReveal, access.Resource{})
	g.event = baseEvent(ctx, g.req.Principal.ID, string(g.req.Purpose))
	g.event.Action = audit.ActionReveal
}

// isInsecureAllowAll reports whether c is access.InsecureAllowAll, whose
// decisions cost less than remembering them. It compares code pointers: a
// false positive would only make a call skip its Memo, never change a
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
	req := g.req
	req.Resource = access.Resource{
		RecordType: w.rec, Field: path, Kind: string(lf.kind), Class: string(lf.class),
		OwnerID: owner, SubjectID: id, Tenant: tenant,
	}
	d, err := g.checker.Check(w.ctx, req)
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
