package access

import (
	"context"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Wildcard, in a rule's Roles, Actions or resource selectors, matches
// anything.
const Wildcard = "*"

// clockSkew is how far in the future an authentication time may be and still
// count as fresh, to absorb clock differences between hosts.
const clockSkew = time.Minute

// Rule is one statement of a Policy: principals with one of Roles may do one
// of Actions on resources matched by the selectors, with effect Effect, when
// every condition holds.
//
// Resource selectors (RecordTypes, Fields, Kinds, Classes) are lists of
// names; an empty list matches every resource. A name may be "*" (anything)
// or end with "*" to match a prefix ("Address.*"). Every selector that is
// set must match.
type Rule struct {
	// Name identifies the rule in decisions, audit records and errors. It
	// is required, unique in a policy, and made of letters, digits and
	// "_.:-".
	Name string
	// Effect is Allow, Mask or Deny.
	Effect Effect
	// Roles the rule applies to; "*" is every principal. Required.
	Roles []string
	// Actions the rule applies to; "*" is every action. Required. A Mask
	// rule applies only to ActionReveal and ActionExport.
	Actions []Action

	// RecordTypes, Fields, Kinds and Classes select resources.
	RecordTypes []string
	Fields      []string
	Kinds       []string
	Classes     []string

	// OwnerOnly requires the principal to own the record (Principal.ID ==
	// Resource.OwnerID, both non-empty).
	OwnerOnly bool
	// SameTenant requires Principal.Tenant == Resource.Tenant, both
	// non-empty.
	SameTenant bool
	// Purposes, when set, requires the request's purpose to be one of them.
	Purposes []Purpose
	// MFAWithin, when positive, requires the principal to have
	// authenticated with an MFA method (see [Authentication.HasMFA]) no
	// longer ago than this. Not allowed on a Deny rule.
	MFAWithin time.Duration
	// Attributes, when set, requires each named principal attribute to
	// have exactly the given value.
	Attributes map[string]string
	// BreakGlass makes an Allow rule an emergency rule: it applies only to
	// requests that carry a stated reason (Request.BreakGlass), and its
	// decisions have Alert set. Only allowed on an Allow rule.
	BreakGlass bool
}

// PolicyOptions configures a Policy. The zero value is usable.
type PolicyOptions struct {
	// Roles, when non-nil, is the closed set of roles rules may name: a rule
	// naming another role is an error wrapping ErrUnknownRole. Policy files
	// declare their roles; those are added to these.
	Roles []string
	// Purposes are purposes rules may name in addition to the built-in
	// ones. Policy files may declare more.
	Purposes []Purpose
	// Now returns the current time, for MFA freshness. Default: time.Now.
	Now func() time.Time
}

// Policy is the default Checker: a list of rules evaluated with deny by
// default and a fixed precedence (see the package documentation). It is
// immutable and safe for concurrent use. Build one with NewPolicy or load one
// with LoadPolicy, ParsePolicyYAML or ParsePolicyJSON.
type Policy struct {
	rules []Rule
	now   func() time.Time
	// roleBit gives each role rules name a bit, when there are at most 64,
	// so that a rule's roles are checked with one AND; nil otherwise.
	roleBit map[string]uint64

	// The rules that apply to each action, in the order Check considers
	// them: by precedence (deny, allow, break-glass allow, mask), then in
	// policy order. byAction holds them all; byRole, when roleBit is set,
	// only those of one role bit (or of every role: "*"), and anyRole only
	// those of every role.
	byAction [len(actions)][]*compiledRule
	byRole   [len(actions)][][]*compiledRule // by the role bit's position
	anyRole  [len(actions)][]*compiledRule

	// What the rules read, so that Memo can drop the rest from its key.
	usesOwner, usesTenant, usesBreakGlass bool
}

var _ Checker = (*Policy)(nil)

// Precomputed reasons that do not depend on a rule.
const (
	reasonNoPrincipal   = "no principal"
	reasonUnknownAction = "unknown action"
	reasonDefaultDeny   = "no rule allows this request (default deny)"
)

// NewPolicy checks rules and compiles them into a Policy. An invalid rule
// yields a *PolicyError that names it and wraps ErrInvalidPolicy (and
// ErrUnknownAction, ErrUnknownRole or ErrUnknownPurpose where one fits).
// An empty rule list is valid: the policy then denies everything.
func NewPolicy(rules []Rule, opts PolicyOptions) (*Policy, error) {
	env := newValidationEnv(opts.Roles, opts.Purposes)
	if err := env.validateRules(rules); err != nil {
		return nil, err
	}
	return compile(rules, opts.Now), nil
}

// Rules returns a copy of the policy's rules, in order.
func (p *Policy) Rules() []Rule {
	out := make([]Rule, len(p.rules))
	for i, r := range p.rules {
		out[i] = cloneRule(r)
	}
	return out
}

// Check decides req. It never blocks and ignores ctx. A request without a
// principal is denied with an error wrapping ErrNoPrincipal; one with an
// unknown action is denied with an error wrapping ErrUnknownAction.
// Otherwise the error is nil and the Decision is:
//
//   - Deny, if a Deny rule matches;
//   - else Allow, if an Allow rule matches (the first in policy order);
//   - else Allow with Alert, if a break-glass Allow rule matches and the
//     request states a reason;
//   - else Mask, if a Mask rule matches;
//   - else Deny (the default).
func (p *Policy) Check(_ context.Context, req Request) (Decision, error) {
	if req.Principal.IsZero() {
		return Decision{Effect: Deny, Reason: reasonNoPrincipal}, ErrNoPrincipal
	}
	ai := req.Action.index()
	if ai < 0 {
		return Decision{Effect: Deny, Reason: reasonUnknownAction}, ErrUnknownAction
	}
	cands, roles, checkRoles := p.candidates(ai, req.Principal.Roles)
	// cands are in order of precedence, so the first rule that applies
	// decides: every rule of a stronger effect has been considered.
	ev := evaluation{req: &req, now: p.now}
	var failed *compiledRule // the first rule whose condition failed
	var failedWhy string
	for _, r := range cands {
		if checkRoles && !r.matchRoles(req.Principal.Roles, roles, p.roleBit != nil) || !r.matchResource(&req.Resource) {
			continue
		}
		if why := r.unmet(&ev); why != "" {
			if r.effect != Deny && (failed == nil || r.index < failed.index) {
				failed, failedWhy = r, why
			}
			continue
		}
		return r.decision(), nil
	}
	return defaultDeny(failed, failedWhy), nil
}

// candidates returns the rules of action ai that may apply to a principal
// with the given roles, in order of precedence, and whether they still
// need matchRoles (with the roles' bits): those of the principal's one
// role, when it has one role the rules name, else every rule of the action.
func (p *Policy) candidates(ai int, principalRoles []string) (cands []*compiledRule, roles uint64, checkRoles bool) {
	if p.roleBit == nil {
		return p.byAction[ai], 0, true
	}
	n := 0
	for _, r := range principalRoles {
		if bit := p.roleBit[r]; bit != 0 && roles&bit == 0 {
			roles |= bit
			n++
		}
	}
	switch n {
	case 0:
		return p.anyRole[ai], roles, false
	case 1:
		return p.byRole[ai][bits.TrailingZeros64(roles)], roles, false
	}
	return p.byAction[ai], roles, true
}

// decision is the decision of rule r when it applies and its conditions
// hold.
func (r *compiledRule) decision() Decision {
	switch {
	case r.effect == Deny:
		return Decision{Effect: Deny, Reason: r.reason, Rule: r.name}
	case r.effect == Allow:
		return Decision{Effect: Allow, Reason: r.reason, Rule: r.name, Alert: r.breakGlass}
	}
	return Decision{Effect: Mask, Reason: r.reason, Rule: r.name}
}

// defaultDeny is the decision when no rule decides: failed is the first
// Allow or Mask rule that applied but whose condition failed (why), or nil.
func defaultDeny(failed *compiledRule, why string) Decision {
	if failed != nil {
		return Decision{Effect: Deny, Reason: why}
	}
	return Decision{Effect: Deny, Reason: reasonDefaultDeny}
}

// RecordInputs implements RecordInputReporter: a Policy reads the owner ID
// when a rule is owner-only, the tenant when a rule requires the same
// tenant, and never the subject ID.
func (p *Policy) RecordInputs() RecordInputs {
	return RecordInputs{OwnerID: p.usesOwner, Tenant: p.usesTenant}
}

// memoKey implements memoNormalizer: it clears the request fields that no
// rule of p reads, so that Memo shares one decision between them.
func (p *Policy) memoKey(req Request) Request {
	req.Resource.SubjectID = ""
	if !p.usesOwner {
		req.Resource.OwnerID = ""
	}
	if !p.usesTenant {
		req.Resource.Tenant = ""
	}
	if req.BreakGlass != "" {
		// Only whether a reason was stated matters, never its text.
		if p.usesBreakGlass {
			req.BreakGlass = "stated"
		} else {
			req.BreakGlass = ""
		}
	}
	return req
}

// evaluation is the state of one Check shared by its rules: the request and
// the current time, read at most once.
type evaluation struct {
	req     *Request
	now     func() time.Time
	t       time.Time
	haveNow bool
}

func (ev *evaluation) time() time.Time {
	if !ev.haveNow {
		ev.t, ev.haveNow = ev.now(), true
	}
	return ev.t
}

// compiledRule is a Rule prepared for evaluation, with its reasons built
// once so that Check does not allocate.
type compiledRule struct {
	index      int // in the policy
	name       string
	effect     Effect
	breakGlass bool

	anyRole  bool
	roles    []string
	roleMask uint64 // the bits of roles, when the policy uses role bits

	recordTypes, fields, kinds, classes matcher

	ownerOnly, sameTenant bool
	purposes              []Purpose
	mfaWithin             time.Duration
	attrKeys, attrValues  []string

	reason string // the reason of a decision made by this rule
	// Reasons for a default deny when a condition of this rule is unmet.
	unmetPurpose, unmetTenant, unmetOwner, unmetAttrs, unmetMFA, unmetGlass string
}

// matchRoles reports whether r applies to a principal with roles (given as
// the bits of roleMask when useMask is set).
func (r *compiledRule) matchRoles(roles []string, roleMask uint64, useMask bool) bool {
	switch {
	case r.anyRole:
		return true
	case useMask:
		return roleMask&r.roleMask != 0
	}
	return hasAny(roles, r.roles)
}

// matchResource reports whether r's selectors match res.
func (r *compiledRule) matchResource(res *Resource) bool {
	return r.classes.match(res.Class) && r.fields.match(res.Field) &&
		r.kinds.match(res.Kind) && r.recordTypes.match(res.RecordType)
}

// unmet returns "" when every condition of r holds, else the reason for the
// first that does not. The conditions are checked in this order: the
// principal's (unmetBefore), the record's (unmetRecord), the principal's
// again (unmetAfter).
func (r *compiledRule) unmet(ev *evaluation) string {
	if why := r.unmetBefore(ev.req); why != "" {
		return why
	}
	if why := r.unmetRecord(&ev.req.Principal, &ev.req.Resource); why != "" {
		return why
	}
	return r.unmetAfter(ev)
}

// unmetBefore checks break-glass and purpose.
func (r *compiledRule) unmetBefore(req *Request) string {
	if r.breakGlass && req.BreakGlass == "" {
		return r.unmetGlass
	}
	if r.purposes != nil && (req.Purpose == "" || !slices.Contains(r.purposes, req.Purpose)) {
		return r.unmetPurpose
	}
	return ""
}

// unmetRecord checks same-tenant and owner-only.
func (r *compiledRule) unmetRecord(p *Principal, res *Resource) string {
	if r.sameTenant && (p.Tenant == "" || p.Tenant != res.Tenant) {
		return r.unmetTenant
	}
	if r.ownerOnly && (p.ID == "" || p.ID != res.OwnerID) {
		return r.unmetOwner
	}
	return ""
}

// unmetAfter checks attributes and MFA freshness, reading the clock only
// for a rule with an MFA condition.
func (r *compiledRule) unmetAfter(ev *evaluation) string {
	p := &ev.req.Principal
	for i, k := range r.attrKeys {
		v, ok := p.Attributes[k]
		if !ok || v != r.attrValues[i] {
			return r.unmetAttrs
		}
	}
	if r.mfaWithin > 0 && !mfaFresh(p.Auth, r.mfaWithin, ev) {
		return r.unmetMFA
	}
	return ""
}

// mfaFresh reports whether a is an MFA authentication no older than within.
// An authentication time more than clockSkew in the future is not fresh.
func mfaFresh(a Authentication, within time.Duration, ev *evaluation) bool {
	if a.Time.IsZero() || !a.HasMFA() {
		return false
	}
	age := ev.time().Sub(a.Time)
	return age <= within && age >= -clockSkew
}

func hasAny(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// matcher matches a name against a selector list.
type matcher struct {
	any      bool
	exact    []string
	set      map[string]struct{} // instead of exact, for long lists
	prefixes []string
}

func newMatcher(names []string) matcher {
	var m matcher
	if len(names) == 0 {
		m.any = true
		return m
	}
	for _, n := range names {
		switch {
		case n == Wildcard:
			m.any = true
		case strings.HasSuffix(n, Wildcard):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(n, Wildcard))
		default:
			m.exact = append(m.exact, n)
		}
	}
	if len(m.exact) > 8 {
		m.set = make(map[string]struct{}, len(m.exact))
		for _, n := range m.exact {
			m.set[n] = struct{}{}
		}
		m.exact = nil
	}
	return m
}

func (m *matcher) match(s string) bool {
	return m.any || m.matchList(s)
}

func (m *matcher) matchList(s string) bool {
	if s == "" {
		return false
	}
	if m.set != nil {
		if _, ok := m.set[s]; ok {
			return true
		}
	} else if slices.Contains(m.exact, s) {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// compile builds a Policy from validated rules.
func compile(rules []Rule, now func() time.Time) *Policy {
	if now == nil {
		now = time.Now
	}
	p := &Policy{now: now, rules: make([]Rule, len(rules)), roleBit: roleBits(rules)}
	for i, r := range rules {
		p.rules[i] = cloneRule(r)
		c := compileRule(p.rules[i])
		c.index = i
		for _, role := range r.Roles {
			c.roleMask |= p.roleBit[role]
		}
		p.usesOwner = p.usesOwner || c.ownerOnly
		p.usesTenant = p.usesTenant || c.sameTenant
		p.usesBreakGlass = p.usesBreakGlass || c.breakGlass
		for ai, a := range actions {
			if ruleHasAction(r, a) {
				p.byAction[ai] = append(p.byAction[ai], c)
			}
		}
	}
	for ai, cands := range p.byAction {
		slices.SortStableFunc(cands, func(a, b *compiledRule) int { return a.rank() - b.rank() })
		if p.roleBit == nil {
			continue
		}
		p.byRole[ai] = make([][]*compiledRule, len(p.roleBit))
		for i := range p.byRole[ai] {
			for _, c := range cands {
				if c.anyRole || c.roleMask&(1<<i) != 0 {
					p.byRole[ai][i] = append(p.byRole[ai][i], c)
				}
			}
		}
		for _, c := range cands {
			if c.anyRole {
				p.anyRole[ai] = append(p.anyRole[ai], c)
			}
		}
	}
	return p
}

// rank orders rules by precedence: deny, allow, break-glass allow, mask.
func (r *compiledRule) rank() int {
	switch {
	case r.effect == Deny:
		return 0
	case r.effect == Allow && !r.breakGlass:
		return 1
	case r.effect == Allow:
		return 2
	}
	return 3
}

// roleBits gives each role the rules name one bit, or returns nil if there
// are more than 64 roles.
func roleBits(rules []Rule) map[string]uint64 {
	bits := make(map[string]uint64)
	for _, r := range rules {
		for _, role := range r.Roles {
			if _, ok := bits[role]; ok || role == Wildcard {
				continue
			}
			if len(bits) == 64 {
				return nil
			}
			bits[role] = 1 << len(bits)
		}
	}
	return bits
}

// ruleHasAction reports whether r applies to a. A Mask rule applies only to
// reveal and export, whatever it lists.
func ruleHasAction(r Rule, a Action) bool {
	if r.Effect == Mask && a != ActionReveal && a != ActionExport {
		return false
	}
	return slices.Contains(r.Actions, a) || slices.Contains(r.Actions, Action(Wildcard))
}

func compileRule(r Rule) *compiledRule {
	q := strconv.Quote(r.Name)
	c := &compiledRule{
		name:        r.Name,
		effect:      r.Effect,
		breakGlass:  r.BreakGlass,
		anyRole:     slices.Contains(r.Roles, Wildcard),
		roles:       r.Roles,
		recordTypes: newMatcher(r.RecordTypes),
		fields:      newMatcher(r.Fields),
		kinds:       newMatcher(r.Kinds),
		classes:     newMatcher(r.Classes),
		ownerOnly:   r.OwnerOnly,
		sameTenant:  r.SameTenant,
		purposes:    r.Purposes,
		mfaWithin:   r.MFAWithin,
	}
	c.attrKeys = slices.Sorted(maps.Keys(r.Attributes))
	for _, k := range c.attrKeys {
		c.attrValues = append(c.attrValues, r.Attributes[k])
	}
	switch {
	case r.BreakGlass:
		c.reason = "break-glass: allowed by rule " + q + " on a stated reason; alert raised"
	case r.Effect == Allow:
		c.reason = "allowed by rule " + q
	case r.Effect == Mask:
		c.reason = "masked by rule " + q
	default:
		c.reason = "denied by rule " + q
	}
	pre := "no rule allows this request; rule " + q + " requires "
	c.unmetGlass = pre + "a stated break-glass reason"
	ps := make([]string, len(r.Purposes))
	for i, p := range r.Purposes {
		ps[i] = string(p)
	}
	c.unmetPurpose = pre + "purpose " + strings.Join(ps, " or ")
	c.unmetTenant = pre + "the same tenant as the record"
	c.unmetOwner = pre + "the principal to own the record"
	c.unmetAttrs = pre + "principal attributes " + strings.Join(c.attrKeys, ", ") + " to match"
	c.unmetMFA = pre + "MFA within " + r.MFAWithin.String()
	return c
}

func cloneRule(r Rule) Rule {
	r.Roles = slices.Clone(r.Roles)
	r.Actions = slices.Clone(r.Actions)
	r.RecordTypes = slices.Clone(r.RecordTypes)
	r.Fields = slices.Clone(r.Fields)
	r.Kinds = slices.Clone(r.Kinds)
	r.Classes = slices.Clone(r.Classes)
	r.Purposes = slices.Clone(r.Purposes)
	r.Attributes = maps.Clone(r.Attributes)
	return r
}
