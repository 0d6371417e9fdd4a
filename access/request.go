package access

import (
	"context"
	"fmt"
)

// Action is what a principal wants to do with protected data.
type Action string

// Actions. They are stable strings, written in policy files and audit
// records; the data actions match package audit's action names.
const (
	// ActionReveal is reading a protected value in the clear.
	ActionReveal Action = "reveal"
	// ActionSearch is looking records up by a protected value (blind index).
	ActionSearch Action = "search"
	// ActionExport is copying protected values out in bulk or for a subject
	// access request.
	ActionExport Action = "export"
	// ActionTokenize is turning a value into a token.
	ActionTokenize Action = "tokenize"
	// ActionDetokenize is turning a token back into its value.
	ActionDetokenize Action = "detokenize"
	// ActionErase is erasing a subject's data (crypto-shredding).
	ActionErase Action = "erase"
	// ActionKeyAdmin is administering keys: rotate, disable, destroy, backup.
	ActionKeyAdmin Action = "key-admin"
)

// actions lists every known action; an action's index in it is its index
// in a compiled policy.
var actions = [...]Action{
	ActionReveal, ActionSearch, ActionExport, ActionTokenize,
	ActionDetokenize, ActionErase, ActionKeyAdmin,
}

// index returns a's position in actions, or -1 for an unknown action.
func (a Action) index() int {
	switch a {
	case ActionReveal:
		return 0
	case ActionSearch:
		return 1
	case ActionExport:
		return 2
	case ActionTokenize:
		return 3
	case ActionDetokenize:
		return 4
	case ActionErase:
		return 5
	case ActionKeyAdmin:
		return 6
	}
	return -1
}

// Valid reports whether a is one of the actions this package defines.
func (a Action) Valid() bool { return a.index() >= 0 }

// ParseAction returns the action named s, or an error wrapping
// ErrUnknownAction.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if !a.Valid() {
		return "", fmt.Errorf("%w %q", ErrUnknownAction, truncate(s))
	}
	return a, nil
}

// Resource names the protected data a request is about. It holds names and
// identifiers only, never the data itself.
type Resource struct {
	// RecordType is the type of the record, for example "Customer".
	RecordType string
	// Field is the path of the field inside the record, for example
	// "Email" or "Address.Street".
	Field string
	// Kind is the kind of value, for example "email", "phone", "card".
	Kind string
	// Class is the field's data class, for example "contact" or
	// "financial", as tagged in the record type.
	Class string
	// OwnerID is the ID of the principal who owns the record (the sales rep
	// of a customer account), or "" when the record has no owner.
	OwnerID string
	// SubjectID identifies the data subject (the customer) the data is
	// about.
	SubjectID string
	// Tenant is the tenant the record belongs to, or "".
	Tenant string
}

// Request is one access question: may this principal do this action on this
// resource, for this purpose?
type Request struct {
	// Principal is who asks; a zero Principal is denied.
	Principal Principal
	// Action is what they want to do.
	Action Action
	// Resource is the data it is about.
	Resource Resource
	// Purpose is why they ask, or "" when none was declared.
	Purpose Purpose
	// BreakGlass is the reason the principal stated for an emergency access
	// ("break-glass"). Empty means no break-glass request. It may hold
	// personal data: Checkers must not copy it into a Decision or an error.
	BreakGlass string
}

// NewRequest builds a Request for action on res, taking the principal, the
// purpose and any break-glass reason from ctx (see [WithPrincipal],
// [WithPurpose], [WithBreakGlass]). Missing values stay empty; a Checker then
// denies a request without a principal.
func NewRequest(ctx context.Context, action Action, res Resource) Request {
	req := Request{Action: action, Resource: res}
	req.Principal, _ = PrincipalFrom(ctx)
	req.Purpose, _ = PurposeFrom(ctx)
	req.BreakGlass, _ = BreakGlassFrom(ctx)
	return req
}

// Effect is the outcome of an access decision. Its zero value is Deny, so
// that a zero Decision fails closed.
type Effect uint8

// Effects.
const (
	// Deny refuses the access.
	Deny Effect = iota
	// Mask lets the caller see a masked form of the value (for example
	// "j***@example.com") but not the value itself.
	Mask
	// Allow permits the access.
	Allow
)

// String returns "deny", "mask" or "allow".
func (e Effect) String() string {
	switch e {
	case Deny:
		return "deny"
	case Mask:
		return "mask"
	case Allow:
		return "allow"
	}
	return fmt.Sprintf("Effect(%d)", uint8(e))
}

// parseEffect returns the effect named s.
func parseEffect(s string) (Effect, bool) {
	switch s {
	case "deny":
		return Deny, true
	case "mask":
		return Mask, true
	case "allow":
		return Allow, true
	}
	return Deny, false
}

// Decision is the answer to a Request.
type Decision struct {
	// Effect is Allow, Mask or Deny.
	Effect Effect
	// Reason explains the decision for logs and audit records. It names
	// rules and conditions only, never a value from the request.
	Reason string
	// Rule is the name of the rule that decided, or "" for the default
	// deny.
	Rule string
	// Alert is set on a break-glass allow: the access is permitted but must
	// be reported for review at once.
	Alert bool
}

// Err returns nil unless d denies access, and then an error wrapping
// ErrDenied that carries the rule and reason (never a request value).
func (d Decision) Err() error {
	if d.Effect != Deny {
		return nil
	}
	if d.Rule != "" {
		return fmt.Errorf("access: %w by rule %q: %s", ErrDenied, d.Rule, d.Reason)
	}
	return fmt.Errorf("access: %w: %s", ErrDenied, d.Reason)
}

// Checker decides access requests. It is the seam between piiguard and the
// host application's authorization: use [Policy], the Cedar adapter in
// package cedaraccess, or an implementation of your own.
//
// The contract:
//
//   - Check must be safe for concurrent use.
//   - A request without a principal (Principal.ID == "") is denied.
//   - When Check returns an error, the Decision is a Deny and callers must
//     fail closed on the error whatever the Decision says.
//   - Neither the Decision's Reason nor the error may contain a value from
//     the request other than the names of rules, actions, roles and
//     conditions: no principal, owner or subject ID, no tenant, no
//     break-glass reason.
type Checker interface {
	Check(ctx context.Context, req Request) (Decision, error)
}

// CheckerFunc adapts a function to the Checker interface.
type CheckerFunc func(ctx context.Context, req Request) (Decision, error)

// Check calls f(ctx, req).
func (f CheckerFunc) Check(ctx context.Context, req Request) (Decision, error) {
	return f(ctx, req)
}

// InsecureAllowAll is a Checker that allows every request, even one without
// a principal. Using it is a deliberate choice to run without access control
// (tests, demos, single-user tools); production code should not.
//
// It is comparable (c == InsecureAllowAll tells whether a Checker turns
// access control off), and a Prepared over it reports its one decision
// through Uniform, so that a caller deciding many resources at once
// (pii.Protector.Open) asks nothing per resource.
var InsecureAllowAll Checker = insecureAllowAll{}

type insecureAllowAll struct{}

// allowAll is InsecureAllowAll's decision.
var allowAll = Decision{Effect: Allow, Rule: "insecure-allow-all", Reason: "access control disabled"}

func (insecureAllowAll) Check(context.Context, Request) (Decision, error) { return allowAll, nil }

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// RecordInputs says which parts of a Resource that differ from one record
// to the next a Checker's decisions may depend on.
type RecordInputs struct {
	OwnerID, SubjectID, Tenant bool
}

// RecordInputReporter is an optional interface of a Checker that knows
// which per-record parts of a Resource its decisions read. Two requests
// that differ only in parts it does not read must get the same decision,
// so a caller deciding the same field of many records
// (pii.Protector.OpenAll) may ask once per distinct combination of the
// parts it reads. A Checker that does not implement it is taken to read
// all of them. The answer must not change over the Checker's life.
// [Policy] implements it; a type that embeds a *Policy and reads more in
// its own Check must implement it too, or the Policy's answer is promoted.
type RecordInputReporter interface {
	RecordInputs() RecordInputs
}
