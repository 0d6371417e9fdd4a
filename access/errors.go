package access

import (
	"strconv"
	"strings"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
)

// Sentinel errors. Errors returned by this package wrap one of them; test
// with errors.Is. Each is, or wraps, one of the module's class sentinels,
// so piiguard.ErrorCode classifies it (ErrDenied is piiguard.ErrDenied
// itself).
var (
	// ErrNoPrincipal is returned by Check for a request without a principal
	// (no principal in the context, or one with an empty ID). The Decision
	// returned with it is a Deny.
	ErrNoPrincipal = errtext.Tagged(piiguard.ErrDenied, "access: no principal")
	// ErrUnknownAction is returned by Check for a request whose action this
	// package does not define, and wrapped by a PolicyError for a rule that
	// names one.
	ErrUnknownAction = errtext.Tagged(piiguard.ErrInvalidArgument, "access: unknown action")
	// ErrUnknownRole is wrapped by a PolicyError for a rule that names a
	// role the policy does not declare.
	ErrUnknownRole = errtext.Tagged(piiguard.ErrInvalidArgument, "access: unknown role")
	// ErrUnknownPurpose is wrapped by a PolicyError for a rule that names a
	// purpose that is neither built in nor declared.
	ErrUnknownPurpose = errtext.Tagged(piiguard.ErrInvalidArgument, "access: unknown purpose")
	// ErrInvalidPolicy is wrapped by every error about a policy: a file
	// that does not parse, a rule that is incomplete or contradictory.
	ErrInvalidPolicy = errtext.Tagged(piiguard.ErrInvalidArgument, "access: invalid policy")
	// ErrDenied is wrapped by the error of [Decision.Err] for a Deny.
	ErrDenied = piiguard.ErrDenied
)

// PolicyError describes what is wrong with a policy and where: the rule (by
// name, or "#N" for the N-th rule when it has none) and the line in the
// policy file (0 when the policy was not read from a file). It wraps
// ErrInvalidPolicy, and Err when set (ErrUnknownAction, ErrUnknownRole,
// ErrUnknownPurpose).
type PolicyError struct {
	// Rule names the rule at fault, or is "" for an error outside rules.
	Rule string
	// Line is the 1-based line in the policy file, or 0 if unknown.
	Line int
	// Msg says what is wrong.
	Msg string
	// Err is a more specific sentinel error, or nil.
	Err error

	// Where in a rule the error is, for the loaders to find its line: the
	// rule's index, the member's key ("" for the whole rule) and the item
	// in a list member (-1 for none).
	index int
	key   string
	item  int
}

// Error returns a message such as
// `access: invalid policy: rule "sales" (line 12): unknown role "salse"`.
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidPolicy.Error())
	if e.Rule != "" {
		b.WriteString(": rule ")
		b.WriteString(strconv.Quote(e.Rule))
	}
	if e.Line > 0 {
		if e.Rule != "" {
			b.WriteString(" (line ")
		} else {
			b.WriteString(": line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Rule != "" {
			b.WriteString(")")
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidPolicy and Err.
func (e *PolicyError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidPolicy}
	}
	return []error{ErrInvalidPolicy, e.Err}
}
