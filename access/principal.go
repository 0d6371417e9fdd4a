package access

import (
	"context"
	"maps"
	"slices"
	"time"
)

// AuthMethod names one way a principal proved who they are in the session
// that makes the request. The host application sets it from its own login.
type AuthMethod string

// Authentication methods. Applications may use their own strings; only the
// methods for which [AuthMethod.IsMFA] reports true satisfy an MFA condition.
const (
	// AuthPassword is a password (or any single knowledge factor).
	AuthPassword AuthMethod = "password"
	// AuthMFA says the login completed a multi-factor flow, whatever the
	// second factor was.
	AuthMFA AuthMethod = "mfa"
	// AuthOTP is a one-time code (TOTP, HOTP) used as a second factor.
	AuthOTP AuthMethod = "otp"
	// AuthWebAuthn is a WebAuthn / FIDO2 authenticator (security key or
	// passkey), which proves possession of a device.
	AuthWebAuthn AuthMethod = "webauthn"
	// AuthSSO is a federated login (OIDC, SAML) whose factors are unknown to
	// the application.
	AuthSSO AuthMethod = "sso"
	// AuthAPIKey is a service credential rather than a person's login.
	AuthAPIKey AuthMethod = "api_key"
)

// IsMFA reports whether m proves a factor beyond a password: AuthMFA,
// AuthOTP or AuthWebAuthn. An application whose identity provider reports
// MFA for an SSO login should add AuthMFA to the principal's methods.
func (m AuthMethod) IsMFA() bool {
	switch m {
	case AuthMFA, AuthOTP, AuthWebAuthn:
		return true
	}
	return false
}

// Authentication describes how and when the principal authenticated. It is
// what MFA-freshness conditions ("MFA within 15 minutes") are evaluated on.
type Authentication struct {
	// Methods are the methods used in the session, for example
	// {AuthPassword, AuthOTP}.
	Methods []AuthMethod
	// Time is when the principal last completed authentication (or step-up
	// authentication). The zero time means unknown and never satisfies a
	// freshness condition.
	Time time.Time
}

// HasMFA reports whether any of the methods is a multi-factor method (see
// [AuthMethod.IsMFA]).
func (a Authentication) HasMFA() bool {
	for _, m := range a.Methods {
		if m.IsMFA() {
			return true
		}
	}
	return false
}

// Principal is the person or service on whose behalf data is accessed: an
// employee, a support agent, a batch job. piiguard never authenticates
// anyone; the host application fills a Principal from its own
// authentication and puts it in the context with [WithPrincipal] (the
// [Middleware] does this for net/http).
//
// A Principal with an empty ID is no principal: every Checker in this
// package denies it.
type Principal struct {
	// ID identifies the principal (an employee or service ID). It is what
	// owner-only conditions compare with a record's owner.
	ID string
	// Roles are the principal's roles, as named in the policy.
	Roles []string
	// Tenant is the principal's tenant in a multi-tenant application, or "".
	Tenant string
	// Attributes are further facts about the principal (department,
	// region, …) that rules may test for equality.
	Attributes map[string]string
	// Auth says how and when the principal authenticated.
	Auth Authentication
}

// IsZero reports whether p is no principal (its ID is empty).
func (p Principal) IsZero() bool { return p.ID == "" }

// HasRole reports whether p has the role r.
func (p Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

// clone returns a copy of p that shares no slice or map with it.
func (p Principal) clone() Principal {
	p.Roles = slices.Clone(p.Roles)
	p.Attributes = maps.Clone(p.Attributes)
	p.Auth.Methods = slices.Clone(p.Auth.Methods)
	return p
}

// equal reports whether p and q are the same principal in every field a
// Checker may read. It does not allocate.
func (p Principal) equal(q Principal) bool {
	return p.ID == q.ID && p.Tenant == q.Tenant &&
		slices.Equal(p.Roles, q.Roles) &&
		maps.Equal(p.Attributes, q.Attributes) &&
		slices.Equal(p.Auth.Methods, q.Auth.Methods) &&
		p.Auth.Time.Equal(q.Auth.Time)
}

// Purpose is the declared reason for an access, such as support or billing.
// Rules can require one of a set of purposes (purpose limitation, GDPR
// Art. 5(1)(b)). Applications may declare purposes of their own in a policy.
type Purpose string

// Built-in purposes.
const (
	PurposeSupport   Purpose = "support"
	PurposeBilling   Purpose = "billing"
	PurposeMarketing Purpose = "marketing"
	PurposeFraud     Purpose = "fraud"
	PurposeLegal     Purpose = "legal"
	PurposeSecurity  Purpose = "security"
	PurposeAnalytics Purpose = "analytics"
	// PurposeSubjectRequest is the fulfilment of a data subject's request
	// (GDPR right of access, erasure, portability; CCPA requests).
	PurposeSubjectRequest Purpose = "subject_request"
)

// builtinPurposes lists the purposes a policy may name without declaring.
var builtinPurposes = []Purpose{
	PurposeSupport, PurposeBilling, PurposeMarketing, PurposeFraud,
	PurposeLegal, PurposeSecurity, PurposeAnalytics, PurposeSubjectRequest,
}

type principalKey struct{}
type purposeKey struct{}
type breakGlassKey struct{}

// WithPrincipal returns a copy of ctx that carries p. It stores a copy of p
// that shares no slice or map with the caller's.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p.clone())
}

// PrincipalFrom returns the principal carried by ctx, and whether there is
// one. The returned value shares its slices and map with the context's copy:
// callers must not modify them.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && !p.IsZero()
}

// WithPurpose returns a copy of ctx that carries the purpose p.
func WithPurpose(ctx context.Context, p Purpose) context.Context {
	return context.WithValue(ctx, purposeKey{}, p)
}

// PurposeFrom returns the purpose carried by ctx, and whether there is a
// non-empty one.
func PurposeFrom(ctx context.Context) (Purpose, bool) {
	p, ok := ctx.Value(purposeKey{}).(Purpose)
	return p, ok && p != ""
}

// WithBreakGlass returns a copy of ctx that carries a break-glass request
// with the reason the principal stated. An empty reason is no break-glass
// request. The reason is free text typed by a person: it may hold personal
// data, so it belongs in the audit trail's protected storage, and this
// package never copies it into a Decision or an error.
func WithBreakGlass(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, breakGlassKey{}, reason)
}

// BreakGlassFrom returns the break-glass reason carried by ctx, and whether
// there is a non-empty one.
func BreakGlassFrom(ctx context.Context) (string, bool) {
	r, ok := ctx.Value(breakGlassKey{}).(string)
	return r, ok && r != ""
}
