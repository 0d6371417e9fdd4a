package pii

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/piiguard/piiguard/access"
)

// gate makes the access decisions of one Open or OpenAll call: it asks
// Options.Checker, prepared once for the call's principal, purpose and
// break-glass reason, about every field the call is about to reveal, and
// remembers the decisions worth remembering.
type gate struct {
	checker access.Checker   // Options.Checker
	prep    *access.Prepared // the Checker, prepared for the call; kept by the pool

	// The call's one decision, when the prepared Checker gives every field
	// the same (access.Prepared.Uniform: access.InsecureAllowAll). Then no
	// field is asked about, and no resource is built: not even the
	// record's owner and tenant are read, which only a decision needs.
	// Asking InsecureAllowAll per field cost Open about 70 ns a field.
	uniform bool
	all     access.Decision

	// The decisions of this call, when they are worth remembering: for
	// each leaf of the plan (by leaf.slot), 1 + the index in memo of its
	// latest decision, 0 for none; each entry links to the leaf's previous
	// one. A decision is found again by the field's path and the
	// per-record parts of the request the Checker reads (reads); the rest
	// of the request is the same for the call. Decisions are shared across
	// the records of a batch when the Checker does not read the subject ID
	// (every record has its own), and within a record when a path can
	// repeat (the elements of a slice or map of nested records); otherwise
	// every question is a new one and remembering would only cost.
	remember bool
	across   bool // decisions are shared across records
	reads    access.RecordInputs
	slots    []int32
	memo     []memoEntry
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

// begin prepares g for a call that makes request req (its Resource
// empty) about records of plan rp, several if batch.
func (g *gate) begin(checker access.Checker, req *access.Request, rp *rootPlan, batch bool) {
	g.checker = checker
	if g.prep == nil {
		g.prep = new(access.Prepared)
	}
	g.prep.Reset(checker, *req)
	if g.all, g.uniform = g.prep.Uniform(); g.uniform && g.all.Effect == access.Allow {
		return // nothing to remember
	}
	g.uniform = false // a uniform mask or denial goes the way of every other
	if batch || rp.indirect {
		g.reads = recordInputs(checker)
		g.across = batch && !g.reads.SubjectID
		g.remember = g.across || rp.indirect
	}
	if g.remember {
		g.slots = slices.Grow(g.slots[:0], rp.slots)[:rp.slots]
		g.forget()
	}
}

// record prepares g for the next record of the call.
func (g *gate) record() {
	if g.remember && !g.across {
		g.forget()
	}
}

func (g *gate) forget() {
	clear(g.slots)
	clear(g.memo)
	g.memo = g.memo[:0]
}

// end drops what g holds of a call, keeping its buffers.
func (g *gate) end() {
	if g.checker == nil {
		return // begin was not called
	}
	g.prep.Reset(nil, access.Request{})
	if g.remember {
		g.forget()
	}
	g.slots = g.slots[:0]
	g.checker, g.remember, g.across, g.reads = nil, false, false, access.RecordInputs{}
	g.uniform, g.all = false, access.Decision{}
}

// recordInputs returns what c says it reads of a record, or everything.
func recordInputs(c access.Checker) access.RecordInputs {
	if r, ok := c.(access.RecordInputReporter); ok {
		return r.RecordInputs()
	}
	return access.RecordInputs{OwnerID: true, SubjectID: true, Tenant: true}
}

// decide asks whether the field of step s, at path, of the record bound
// by b may be revealed to the principal of the call. A missing principal
// is a Deny. Any other error of the Checker fails the call
// (ErrAccessCheck), as does a Deny when strict (an error wrapping
// access.ErrDenied).
func (g *gate) decide(ctx context.Context, b *binding, s *step, path string, strict bool) (access.Decision, error) {
	res := access.Resource{RecordType: b.rec, Field: path, Kind: string(s.leaf.kind), Class: string(s.leaf.class)}
	var err error
	if res.OwnerID, res.Tenant, err = b.ownerAndTenant(); err != nil {
		return access.Decision{}, err
	}
	res.SubjectID, _ = b.recordID() // token fields may open without an ID; then none
	var d access.Decision
	if g.remember {
		d, err = g.recall(ctx, s.leaf.slot, &res)
	} else {
		d, err = g.prep.CheckResource(ctx, res)
	}
	switch {
	case err == nil:
	case errors.Is(err, access.ErrNoPrincipal):
		d = access.Decision{Effect: access.Deny, Reason: "no principal", Rule: d.Rule}
	default:
		return access.Decision{}, fieldErr(b.rec, path, fmt.Errorf("%w: %w", ErrAccessCheck, err))
	}
	if d.Effect != access.Allow && d.Effect != access.Mask {
		d.Effect = access.Deny // an unknown effect fails closed
	}
	if d.Effect == access.Deny && strict {
		derr := d.Err()
		if errors.Is(err, access.ErrNoPrincipal) {
			derr = access.ErrNoPrincipal // a denial: it wraps access.ErrDenied
		}
		return d, fieldErr(b.rec, path, derr)
	}
	return d, nil
}

// recall returns the Checker's decision about res, the resource of a
// field of plan leaf slot: the remembered one when the call has asked the
// same question before. Errors are not remembered.
func (g *gate) recall(ctx context.Context, slot int, res *access.Resource) (access.Decision, error) {
	ko, ks, kt := res.OwnerID, res.SubjectID, res.Tenant
	if !g.reads.OwnerID {
		ko = ""
	}
	if !g.reads.SubjectID {
		ks = ""
	}
	if !g.reads.Tenant {
		kt = ""
	}
	for i := g.slots[slot]; i != 0; {
		e := &g.memo[i-1]
		if e.path == res.Field && e.owner == ko && e.subject == ks && e.tenant == kt {
			return e.d, nil
		}
		i = e.next
	}
	d, err := g.prep.CheckResource(ctx, *res)
	if err == nil && len(g.memo) < maxMemo {
		g.memo = append(g.memo, memoEntry{path: res.Field, owner: ko, subject: ks, tenant: kt, d: d, next: g.slots[slot]})
		g.slots[slot] = int32(len(g.memo))
	}
	return d, err
}
