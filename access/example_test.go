package access_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/piiguard/piiguard/access"
)

// A sales rep sees their own customers' contact details, and only a masked
// form of other reps' customers.
func ExampleParsePolicyYAML_ownerOnly() {
	policy, err := access.ParsePolicyYAML([]byte(`
version: 1
roles: [sales_rep]
rules:
  - name: own-customers
    effect: allow
    roles: [sales_rep]
    actions: [reveal]
    record_types: [Customer]
    owner_only: true
  - name: other-customers
    effect: mask
    roles: [sales_rep]
    actions: [reveal]
    record_types: [Customer]
`), access.PolicyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := access.Principal{ID: "rep-alice", Roles: []string{"sales_rep"}}
	for _, owner := range []string{"rep-alice", "rep-bob"} {
		d, _ := policy.Check(context.Background(), access.Request{
			Principal: alice,
			Action:    access.ActionReveal,
			Resource:  access.Resource{RecordType: "Customer", Field: "Email", OwnerID: owner},
		})
		fmt.Printf("customer of %s: %s (%s)\n", owner, d.Effect, d.Rule)
	}
	// Output:
	// customer of rep-alice: allow (own-customers)
	// customer of rep-bob: mask (other-customers)
}

// National ID numbers are revealed only to a principal who completed MFA in
// the last 10 minutes; the clock is injected.
func ExampleNewPolicy_mfa() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	policy, err := access.NewPolicy([]access.Rule{{
		Name:      "identity-needs-mfa",
		Effect:    access.Allow,
		Roles:     []string{"fraud_analyst"},
		Actions:   []access.Action{access.ActionReveal},
		Classes:   []string{"identity"},
		Purposes:  []access.Purpose{access.PurposeFraud},
		MFAWithin: 10 * time.Minute,
	}}, access.PolicyOptions{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	analyst := access.Principal{ID: "emp-9", Roles: []string{"fraud_analyst"}}
	for _, auth := range []access.Authentication{
		{Methods: []access.AuthMethod{access.AuthPassword, access.AuthWebAuthn}, Time: now.Add(-3 * time.Minute)},
		{Methods: []access.AuthMethod{access.AuthPassword, access.AuthWebAuthn}, Time: now.Add(-time.Hour)},
		{Methods: []access.AuthMethod{access.AuthPassword}, Time: now.Add(-time.Minute)},
	} {
		analyst.Auth = auth
		d, _ := policy.Check(context.Background(), access.Request{
			Principal: analyst,
			Action:    access.ActionReveal,
			Resource:  access.Resource{RecordType: "Customer", Field: "NationalID", Class: "identity"},
			Purpose:   access.PurposeFraud,
		})
		fmt.Println(d.Effect, "-", d.Reason)
	}
	// Output:
	// allow - allowed by rule "identity-needs-mfa"
	// deny - no rule allows this request; rule "identity-needs-mfa" requires MFA within 10m0s
	// deny - no rule allows this request; rule "identity-needs-mfa" requires MFA within 10m0s
}

// An on-call engineer may reveal a customer's data in an emergency by
// stating a reason; the decision carries an alert for review.
func ExampleNewPolicy_breakGlass() {
	policy, err := access.NewPolicy([]access.Rule{
		{Name: "oncall-break-glass", Effect: access.Allow, BreakGlass: true, Roles: []string{"oncall"}, Actions: []access.Action{access.ActionReveal}},
		{Name: "oncall-masked", Effect: access.Mask, Roles: []string{"oncall"}, Actions: []access.Action{access.ActionReveal}},
	}, access.PolicyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := access.WithPrincipal(context.Background(), access.Principal{ID: "emp-3", Roles: []string{"oncall"}})
	res := access.Resource{RecordType: "Customer", Field: "Phone"}

	d, _ := policy.Check(ctx, access.NewRequest(ctx, access.ActionReveal, res))
	fmt.Println(d.Effect, d.Alert)

	ctx = access.WithBreakGlass(ctx, "INC-2231: customer cannot log in")
	d, _ = policy.Check(ctx, access.NewRequest(ctx, access.ActionReveal, res))
	fmt.Println(d.Effect, d.Alert, "-", d.Reason)
	// Output:
	// mask false
	// allow true - break-glass: allowed by rule "oncall-break-glass" on a stated reason; alert raised
}

// The middleware takes the principal and purpose from the application's own
// authentication and answers 401 when there is none.
func ExampleMiddleware() {
	authenticate := func(r *http.Request) (access.Principal, access.Purpose, error) {
		// A real application verifies a session cookie or a token here.
		user := r.Header.Get("X-Demo-User")
		if user == "" {
			return access.Principal{}, "", errors.New("no session")
		}
		return access.Principal{ID: user, Roles: []string{"support"}}, access.Purpose(r.URL.Query().Get("purpose")), nil
	}
	handler := access.Middleware(authenticate)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := access.PrincipalFrom(r.Context())
		purpose, _ := access.PurposeFrom(r.Context())
		fmt.Fprintf(w, "hello %s, purpose %s\n", p.ID, purpose)
	}))

	for _, user := range []string{"emp-42", ""} {
		req := httptest.NewRequest(http.MethodGet, "/customers/7?purpose=support", nil)
		if user != "" {
			req.Header.Set("X-Demo-User", user)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		fmt.Print(rec.Code, " ", string(body))
	}
	// Output:
	// 200 hello emp-42, purpose support
	// 401 Unauthorized
}

// A Memo asks the policy once per field when a page of records is opened.
func ExampleMemo() {
	calls := 0
	counting := access.CheckerFunc(func(ctx context.Context, req access.Request) (access.Decision, error) {
		calls++
		return access.InsecureAllowAll.Check(ctx, req)
	})
	memo := access.NewMemo(counting)
	p := access.Principal{ID: "emp-1", Roles: []string{"support"}}
	for record := 0; record < 100; record++ {
		for _, field := range []string{"Email", "Phone"} {
			req := access.Request{Principal: p, Action: access.ActionReveal, Resource: access.Resource{RecordType: "Customer", Field: field}}
			if _, err := memo.Check(context.Background(), req); err != nil {
				fmt.Println(err)
			}
		}
	}
	fmt.Println("checks:", calls)
	// Output: checks: 2
}

// Errors from a policy file name the rule and the line.
func ExampleLoadPolicy_error() {
	_, err := access.LoadPolicy(strings.NewReader(`{
  "version": 1,
  "roles": ["support"],
  "rules": [
    {"name": "support-reveal", "effect": "allow",
     "roles": ["suport"], "actions": ["reveal"]}
  ]
}`), access.FormatJSON, access.PolicyOptions{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, access.ErrInvalidPolicy), errors.Is(err, access.ErrUnknownRole))
	// Output:
	// access: invalid policy: rule "support-reveal" (line 6): unknown role "suport"
	// true true
}

// A request without a principal is denied, with an error that says so.
func ExamplePolicy_Check_noPrincipal() {
	policy, _ := access.NewPolicy(nil, access.PolicyOptions{})
	d, err := policy.Check(context.Background(), access.NewRequest(context.Background(), access.ActionReveal, access.Resource{}))
	fmt.Println(d.Effect, errors.Is(err, access.ErrNoPrincipal))
	// Output: deny true
}

// Prepare readies a policy for the fields of the records one call opens:
// the principal's rules and conditions are worked out once, and each field
// only matches its resource.
func ExamplePrepare() {
	policy, err := access.ParsePolicyYAML([]byte(`
version: 1
roles: [support]
rules:
  - name: support-contact
    effect: allow
    roles: [support]
    actions: [reveal]
    classes: [contact]
    purposes: [support]
  - name: support-rest-masked
    effect: mask
    roles: [support]
    actions: [reveal]
`), access.PolicyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := access.WithPurpose(access.WithPrincipal(context.Background(), access.Principal{ID: "emp-7", Roles: []string{"support"}}), access.PurposeSupport)
	prepared := access.Prepare(policy, access.NewRequest(ctx, access.ActionReveal, access.Resource{}))
	for _, res := range []access.Resource{
		{RecordType: "Customer", Field: "Email", Class: "contact"},
		{RecordType: "Customer", Field: "NationalID", Class: "government_id"},
	} {
		d, _ := prepared.CheckResource(ctx, res)
		fmt.Printf("%s: %s (%s)\n", res.Field, d.Effect, d.Rule)
	}
	// Output:
	// Email: allow (support-contact)
	// NationalID: mask (support-rest-masked)
}
