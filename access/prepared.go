package access

import "context"

// Prepared decides, for one operation, requests that differ only in their
// Resource: those of one principal, action, purpose and break-glass
// reason, such as the fields of the records one call opens. It asks its
// Checker as Check would, with the prepared request's Resource replaced;
// for a *Policy it does once, in Prepare, the work that depends only on the
// principal — which rules the principal's roles select, whether the
// purpose, break-glass, attribute and MFA conditions hold — so that
// CheckResource only matches the resource.
//
// A Prepared is meant to be short-lived, like a Memo: MFA freshness is
// judged at Prepare (by the policy's clock, read only if a rule of the
// principal has an MFA condition), and a policy replaced later is not
// seen. Prepare a new one per operation.
//
// CheckResource is safe for concurrent use; Reset is not. The zero
// Prepared is prepared for the zero Request: it denies every request with
// ErrNoPrincipal.
type Prepared struct {
	c       Checker // the Checker, when it is not exactly a *Policy
	req     Request
	uniform bool // c is InsecureAllowAll: every request gets allowAll

	// For a *Policy:
	pol   *Policy
	err   error    // the error of every request (no principal, unknown action)
	errD  Decision // with err
	cands []preparedRule
}

// preparedRule is a rule that may apply to the prepared principal, with
// the reasons its principal's conditions fail for, if they do: before and
// after its record conditions, in the order of compiledRule.unmet.
type preparedRule struct {
	*compiledRule
	before, after string
}

// Prepare returns a Prepared that decides requests like req, whose
// Resource it ignores, by asking c. It panics if c is nil.
func Prepare(c Checker, req Request) *Prepared {
	if c == nil {
		panic("access: Prepare called with a nil Checker")
	}
	p := new(Prepared)
	p.Reset(c, req)
	return p
}

// Reset prepares p for requests like req (its Resource ignored) to c,
// reusing p's memory. With a nil c, p becomes the zero Prepared.
//
// The work is done once only when c is exactly a *Policy: a type that
// embeds one, to change its Check, is asked through its own Check.
func (p *Prepared) Reset(c Checker, req Request) {
	clear(p.cands)
	p.c, p.pol, p.err, p.errD, p.cands, p.uniform = nil, nil, nil, Decision{}, p.cands[:0], false
	if c == nil {
		p.req = Request{}
		return
	}
	p.req = req
	pol, ok := c.(*Policy)
	if !ok {
		_, p.uniform = c.(insecureAllowAll)
		p.c = c
		return
	}
	p.pol = pol
	if req.Principal.IsZero() {
		p.errD, p.err = Decision{Effect: Deny, Reason: reasonNoPrincipal}, ErrNoPrincipal
		return
	}
	ai := req.Action.index()
	if ai < 0 {
		p.errD, p.err = Decision{Effect: Deny, Reason: reasonUnknownAction}, ErrUnknownAction
		return
	}
	rules, roles, checkRoles := pol.candidates(ai, req.Principal.Roles)
	ev := evaluation{req: &p.req, now: pol.now}
	for _, r := range rules {
		if checkRoles && !r.matchRoles(req.Principal.Roles, roles, pol.roleBit != nil) {
			continue
		}
		pr := preparedRule{compiledRule: r, before: r.unmetBefore(&p.req)}
		if pr.before == "" {
			pr.after = r.unmetAfter(&ev)
		}
		if r.effect == Deny && (pr.before != "" || pr.after != "") {
			continue // it can neither deny nor name a failed condition
		}
		p.cands = append(p.cands, pr)
	}
}

// Uniform reports whether p gives every request it decides one and the
// same decision, whatever its Resource, and no error — and then returns
// that decision, so that a caller deciding many resources in one operation
// (pii.Protector.Open, every field of every record) decides them all at
// once. It reports true when the Checker is InsecureAllowAll, and false
// for every Checker that may decide resources differently (a *Policy,
// Cedar, a Checker of the application's own).
func (p *Prepared) Uniform() (Decision, bool) {
	if p.uniform {
		return allowAll, true
	}
	return Decision{}, false
}

// CheckResource decides the prepared request for res: the decision and
// error of the Checker's Check for that request.
func (p *Prepared) CheckResource(ctx context.Context, res Resource) (Decision, error) {
	if p.uniform {
		return allowAll, nil
	}
	if p.pol == nil {
		if p.c == nil {
			return Decision{Effect: Deny, Reason: reasonNoPrincipal}, ErrNoPrincipal
		}
		req := p.req
		req.Resource = res
		return p.c.Check(ctx, req)
	}
	if p.err != nil {
		return p.errD, p.err
	}
	var failed *compiledRule
	var failedWhy string
	for i := range p.cands {
		r := &p.cands[i]
		if !r.matchResource(&res) {
			continue
		}
		why := r.before
		if why == "" {
			why = r.unmetRecord(&p.req.Principal, &res)
		}
		if why == "" {
			why = r.after
		}
		if why != "" {
			if r.effect != Deny && (failed == nil || r.index < failed.index) {
				failed, failedWhy = r.compiledRule, why
			}
			continue
		}
		return r.decision(), nil
	}
	return defaultDeny(failed, failedWhy), nil
}
