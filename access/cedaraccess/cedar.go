package cedaraccess

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cedar-policy/cedar-go"

	"github.com/piiguard/piiguard/access"
)

// Entity types and annotation keys of the mapping (see the package
// documentation).
const (
	UserType   cedar.EntityType = "User"
	RoleType   cedar.EntityType = "Role"
	ActionType cedar.EntityType = "Action"
	FieldType  cedar.EntityType = "Field"

	// AnnotationID names the rule a policy is, for Decision.Rule.
	AnnotationID = "id"
	// AnnotationEffect is "allow" (the default) or "mask" on a permit
	// policy, "deny" (the default) on a forbid policy.
	AnnotationEffect = "effect"
	// AnnotationBreakGlass, on a permit policy, makes it an emergency
	// permit: it applies only to requests with a stated reason and its
	// decisions carry an alert. Its value is empty or "true".
	AnnotationBreakGlass = "break_glass"
)

// ErrEvaluation is returned, with a Deny, when a forbid policy fails to
// evaluate (for example it reads an attribute the request does not have):
// Cedar skips such a policy, which would let a permit through, so the
// adapter fails closed instead.
var ErrEvaluation = errors.New("cedaraccess: a forbid policy failed to evaluate")

// clockSkew matches package access: an authentication time further in the
// future than this has no age.
const clockSkew = time.Minute

// Options configures a Checker. The zero value is usable.
type Options struct {
	// Now returns the current time, for context.now and context.auth_age.
	// Default: time.Now.
	Now func() time.Time
}

// Checker is an access.Checker that decides with a Cedar policy set. It is
// immutable and safe for concurrent use.
type Checker struct {
	policies cedar.PolicyMap
	meta     map[cedar.PolicyID]meta
	now      func() time.Time
}

var _ access.Checker = (*Checker)(nil)

type kind uint8

const (
	kindAllow kind = iota
	kindGlass
	kindMask
	kindDeny
)

// meta is what the adapter knows of one policy.
type meta struct {
	rule   string
	kind   kind
	order  int // position in the policy text, for deterministic precedence
	reason string
}

// New returns a Checker over a snapshot of ps (later changes to ps are not
// seen). It checks the annotations of every policy and returns a
// *access.PolicyError wrapping access.ErrInvalidPolicy for a bad one.
func New(ps *cedar.PolicySet, opts Options) (*Checker, error) {
	c := &Checker{policies: make(cedar.PolicyMap), meta: make(map[cedar.PolicyID]meta), now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	type entry struct {
		id  cedar.PolicyID
		pos cedar.Position
	}
	var order []entry
	for id, p := range ps.All() {
		c.policies[id] = p
		order = append(order, entry{id, p.Position()})
	}
	slices.SortFunc(order, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.pos.Filename, b.pos.Filename), cmp.Compare(a.pos.Offset, b.pos.Offset), strings.Compare(string(a.id), string(b.id)))
	})
	names := make(map[string]cedar.PolicyID, len(order))
	for i, e := range order {
		m, err := policyMeta(e.id, c.policies[e.id])
		if err != nil {
			return nil, err
		}
		if other, dup := names[m.rule]; dup {
			return nil, &access.PolicyError{Rule: m.rule, Line: e.pos.Line, Msg: fmt.Sprintf("duplicate rule name (also policy %q)", other)}
		}
		names[m.rule] = e.id
		m.order = i
		c.meta[e.id] = m
	}
	return c, nil
}

var cedarPos = regexp.MustCompile(`:(\d+):(\d+)`)

// Parse parses Cedar policy text (its policies get IDs "policy0",
// "policy1", … in order) and returns a Checker over it. A syntax error is a
// *access.PolicyError with the line, wrapping access.ErrInvalidPolicy.
func Parse(filename string, src []byte, opts Options) (*Checker, error) {
	ps, err := cedar.NewPolicySetFromBytes(filename, src)
	if err != nil {
		pe := &access.PolicyError{Msg: "Cedar: " + err.Error()}
		if m := cedarPos.FindStringSubmatch(err.Error()); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
		}
		return nil, pe
	}
	return New(ps, opts)
}

func policyMeta(id cedar.PolicyID, p *cedar.Policy) (meta, error) {
	ann := p.Annotations()
	line := p.Position().Line
	m := meta{rule: string(id)}
	if v, ok := ann[AnnotationID]; ok {
		if !validName(string(v)) {
			return m, &access.PolicyError{Rule: string(id), Line: line, Msg: fmt.Sprintf("@id %q: use 1 to 128 letters, digits and _.:-", truncate(string(v)))}
		}
		m.rule = string(v)
	}
	bad := func(format string, args ...any) error {
		return &access.PolicyError{Rule: m.rule, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	effect, hasEffect := ann[AnnotationEffect]
	glass, hasGlass := ann[AnnotationBreakGlass]
	if hasGlass && glass != "" && glass != "true" {
		return m, bad("@break_glass(%q): want no value or \"true\"", truncate(string(glass)))
	}
	q := strconv.Quote(m.rule)
	if p.Effect() == cedar.Forbid {
		if hasEffect && effect != "deny" || hasGlass {
			return m, bad("a forbid policy can have neither @effect other than \"deny\" nor @break_glass")
		}
		m.kind, m.reason = kindDeny, "denied by rule "+q
		return m, nil
	}
	switch {
	case hasEffect && effect == "mask":
		if hasGlass {
			return m, bad("@break_glass is only allowed on an allow policy")
		}
		m.kind, m.reason = kindMask, "masked by rule "+q
	case hasEffect && effect != "allow":
		return m, bad("@effect(%q): want \"allow\" or \"mask\" on a permit policy", truncate(string(effect)))
	case hasGlass:
		m.kind, m.reason = kindGlass, "break-glass: allowed by rule "+q+" on a stated reason; alert raised"
	default:
		m.kind, m.reason = kindAllow, "allowed by rule "+q
	}
	return m, nil
}

// Check decides req with the Cedar policy set: a forbid that holds denies;
// else a plain permit allows; else an emergency permit allows with an alert,
// if req states a reason; else a mask permit masks (for reveal and export
// only); else the default is deny. Among policies of one kind the first in
// the policy text names the decision. Missing principals and unknown actions
// are denied with errors wrapping access.ErrNoPrincipal and
// access.ErrUnknownAction, like access.Policy. ctx is not used.
func (c *Checker) Check(_ context.Context, req access.Request) (access.Decision, error) {
	if req.Principal.IsZero() {
		return access.Decision{Effect: access.Deny, Reason: "no principal"}, access.ErrNoPrincipal
	}
	if !req.Action.Valid() {
		return access.Decision{Effect: access.Deny, Reason: "unknown action"}, access.ErrUnknownAction
	}
	creq, entities := MapRequest(req, c.now())
	_, diag := cedar.Authorize(c.policies, entities, creq)
	for _, e := range diag.Errors {
		if m := c.meta[e.PolicyID]; m.kind == kindDeny {
			// Never Cedar's message: it may quote request values.
			return access.Decision{Effect: access.Deny, Reason: "forbid rule " + strconv.Quote(m.rule) + " failed to evaluate", Rule: m.rule},
				fmt.Errorf("%w: rule %q", ErrEvaluation, m.rule)
		}
	}
	var best [4]*meta
	for _, r := range diag.Reasons {
		m := c.meta[r.PolicyID]
		switch {
		case m.kind == kindGlass && req.BreakGlass == "":
			continue
		case m.kind == kindMask && req.Action != access.ActionReveal && req.Action != access.ActionExport:
			continue
		}
		if b := best[m.kind]; b == nil || m.order < b.order {
			best[m.kind] = &m
		}
	}
	switch {
	case best[kindDeny] != nil:
		return access.Decision{Effect: access.Deny, Reason: best[kindDeny].reason, Rule: best[kindDeny].rule}, nil
	case best[kindAllow] != nil:
		return access.Decision{Effect: access.Allow, Reason: best[kindAllow].reason, Rule: best[kindAllow].rule}, nil
	case best[kindGlass] != nil:
		return access.Decision{Effect: access.Allow, Reason: best[kindGlass].reason, Rule: best[kindGlass].rule, Alert: true}, nil
	case best[kindMask] != nil:
		return access.Decision{Effect: access.Mask, Reason: best[kindMask].reason, Rule: best[kindMask].rule}, nil
	}
	return access.Decision{Effect: access.Deny, Reason: "no rule allows this request (default deny)"}, nil
}

// MapRequest maps an access request to the Cedar request and entities the
// Checker authorizes, at time now. It is exported so that the mapping can be
// inspected and reused; see the package documentation for the schema.
func MapRequest(req access.Request, now time.Time) (cedar.Request, cedar.EntityMap) {
	p := req.Principal
	user := cedar.NewEntityUID(UserType, cedar.String(p.ID))
	parents := make([]cedar.EntityUID, len(p.Roles))
	roles := make([]cedar.Value, len(p.Roles))
	for i, r := range p.Roles {
		parents[i] = cedar.NewEntityUID(RoleType, cedar.String(r))
		roles[i] = cedar.String(r)
	}
	methods := make([]cedar.Value, len(p.Auth.Methods))
	for i, m := range p.Auth.Methods {
		methods[i] = cedar.String(m)
	}
	attrs := make(cedar.RecordMap, len(p.Attributes))
	for _, k := range slices.Sorted(maps.Keys(p.Attributes)) {
		attrs[cedar.String(k)] = cedar.String(p.Attributes[k])
	}
	pattrs := cedar.RecordMap{
		"roles":        cedar.NewSet(roles...),
		"auth_methods": cedar.NewSet(methods...),
		"mfa":          cedar.Boolean(p.Auth.HasMFA()),
		"attributes":   cedar.NewRecord(attrs),
	}
	if p.Tenant != "" {
		pattrs["tenant"] = cedar.String(p.Tenant)
	}

	r := req.Resource
	field := cedar.NewEntityUID(FieldType, cedar.String(r.RecordType+"."+r.Field))
	rattrs := cedar.RecordMap{
		"record_type": cedar.String(r.RecordType),
		"field":       cedar.String(r.Field),
		"kind":        cedar.String(r.Kind),
		"class":       cedar.String(r.Class),
	}
	if r.OwnerID != "" {
		rattrs["owner"] = cedar.NewEntityUID(UserType, cedar.String(r.OwnerID))
	}
	if r.SubjectID != "" {
		rattrs["subject"] = cedar.String(r.SubjectID)
	}
	if r.Tenant != "" {
		rattrs["tenant"] = cedar.String(r.Tenant)
	}

	ctx := cedar.RecordMap{
		"purpose":     cedar.String(req.Purpose),
		"break_glass": cedar.Boolean(req.BreakGlass != ""),
		"now":         cedar.NewDatetime(now),
	}
	if t := p.Auth.Time; !t.IsZero() {
		if age := now.Sub(t); age >= -clockSkew {
			ctx["auth_age"] = cedar.NewDuration(max(age, 0))
		}
	}

	entities := cedar.EntityMap{
		user:  {UID: user, Parents: cedar.NewEntityUIDSet(parents...), Attributes: cedar.NewRecord(pattrs)},
		field: {UID: field, Attributes: cedar.NewRecord(rattrs)},
	}
	return cedar.Request{
		Principal: user,
		Action:    cedar.NewEntityUID(ActionType, cedar.String(req.Action)),
		Resource:  field,
		Context:   cedar.NewRecord(ctx),
	}, entities
}

// validName matches access's rule names: 1 to 128 of [A-Za-z0-9_.:-].
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}
