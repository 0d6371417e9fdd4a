package cedaraccess_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cedar-policy/cedar-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/cedaraccess"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

func loadCedarCRM(t testing.TB) *cedaraccess.Checker {
	t.Helper()
	src, err := os.ReadFile("testdata/crm.cedar")
	require.NoError(t, err)
	c, err := cedaraccess.Parse("crm.cedar", src, cedaraccess.Options{Now: policytest.Clock})
	require.NoError(t, err)
	return c
}

func loadPolicyCRM(t testing.TB) *access.Policy {
	t.Helper()
	p, err := access.LoadPolicyFile("../testdata/crm.yaml", access.PolicyOptions{Now: policytest.Clock})
	require.NoError(t, err)
	return p
}

func TestCedarDecidesGoldenCases(t *testing.T) {
	c := loadCedarCRM(t)
	for _, tc := range policytest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			d, err := c.Check(context.Background(), tc.Req)
			require.NoError(t, err)
			assert.Equal(t, tc.Want, d.Effect, "reason: %s", d.Reason)
			assert.Equal(t, tc.Rule, d.Rule)
			assert.Equal(t, tc.Alert, d.Alert)
		})
	}
}

// TestCedarAndPolicyAgree runs the golden cases, and variants of each at
// other times, purposes and break-glass states, through both engines.
func TestCedarAndPolicyAgree(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("testdata/crm.cedar")
	require.NoError(t, err)
	for _, shift := range []time.Duration{0, 4 * time.Minute, 9 * time.Minute, 14 * time.Minute, 29 * time.Minute, 2 * time.Hour} {
		now := func() time.Time { return policytest.Now.Add(shift) }
		c, err := cedaraccess.Parse("crm.cedar", src, cedaraccess.Options{Now: now})
		require.NoError(t, err)
		p, err := access.LoadPolicyFile("../testdata/crm.yaml", access.PolicyOptions{Now: now})
		require.NoError(t, err)
		n := 0
		for _, tc := range policytest.Cases() {
			for _, purpose := range []access.Purpose{tc.Req.Purpose, "", access.PurposeSupport, access.PurposeMarketing, access.PurposeFraud, access.PurposeBilling} {
				for _, glass := range []string{"", "reason"} {
					req := tc.Req
					req.Purpose, req.BreakGlass = purpose, glass
					want, werr := p.Check(ctx, req)
					got, gerr := c.Check(ctx, req)
					require.NoError(t, werr)
					require.NoError(t, gerr)
					assert.Equal(t, []any{want.Effect, want.Rule, want.Alert}, []any{got.Effect, got.Rule, got.Alert},
						"%s, purpose %q, break-glass %q, +%v", tc.Name, purpose, glass, shift)
					n++
				}
			}
		}
		assert.Greater(t, n, 500)
	}
}

func TestCedarMissingPrincipalAndUnknownAction(t *testing.T) {
	c := loadCedarCRM(t)
	d, err := c.Check(context.Background(), access.Request{Action: access.ActionReveal})
	require.ErrorIs(t, err, access.ErrNoPrincipal)
	assert.Equal(t, access.Deny, d.Effect)
	d, err = c.Check(context.Background(), access.Request{Principal: policytest.Rep1, Action: "steal"})
	require.ErrorIs(t, err, access.ErrUnknownAction)
	assert.Equal(t, access.Deny, d.Effect)
}

func TestCedarForbidThatFailsToEvaluateDenies(t *testing.T) {
	c, err := cedaraccess.Parse("p.cedar", []byte(`
@id("everyone") permit (principal, action, resource);
@id("bad-forbid") forbid (principal, action, resource) when { resource.tenant == "x" };
@id("bad-permit") permit (principal, action, resource) when { principal.nope == 1 };
`), cedaraccess.Options{})
	require.NoError(t, err)
	req := access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: access.Resource{RecordType: "Customer", SubjectID: policytest.SubjectID}}
	d, err := c.Check(context.Background(), req)
	require.ErrorIs(t, err, cedaraccess.ErrEvaluation)
	assert.Equal(t, access.Deny, d.Effect)
	assert.Equal(t, "bad-forbid", d.Rule)
	assert.NotContains(t, err.Error(), policytest.SubjectID)

	// A permit that fails to evaluate only withholds its own permit.
	req.Resource.Tenant = "y"
	d, err = c.Check(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	assert.Equal(t, "everyone", d.Rule)
}

func TestCedarMaskAppliesToRevealAndExportOnly(t *testing.T) {
	c, err := cedaraccess.Parse("p.cedar", []byte(`@effect("mask") permit (principal, action, resource);`), cedaraccess.Options{})
	require.NoError(t, err)
	for _, a := range []access.Action{access.ActionReveal, access.ActionExport, access.ActionSearch, access.ActionErase} {
		d, err := c.Check(context.Background(), access.Request{Principal: policytest.Rep1, Action: a})
		require.NoError(t, err)
		want := access.Deny
		if a == access.ActionReveal || a == access.ActionExport {
			want = access.Mask
		}
		assert.Equal(t, want, d.Effect, "action %s", a)
		if want == access.Mask {
			assert.Equal(t, "policy0", d.Rule, "without @id the policy ID names the rule")
		}
	}
}

func TestCedarPolicyErrors(t *testing.T) {
	tests := []struct {
		name, src, rule string
		line            int
		msg             string
	}{
		{"syntax", "permit (principal, action, resource);\n\npermit (principal action);\n", "", 3, "Cedar:"},
		{"bad id", "@id(\"a b\") permit (principal, action, resource);", "policy0", 1, `@id "a b"`},
		{"bad effect", "@effect(\"deny\") permit (principal, action, resource);", "policy0", 1, `@effect("deny")`},
		{"mask on forbid", "@id(\"f\") @effect(\"mask\") forbid (principal, action, resource);", "f", 1, "a forbid policy"},
		{"glass on forbid", "@break_glass forbid (principal, action, resource);", "policy0", 1, "a forbid policy"},
		{"glass on mask", "\n@break_glass @effect(\"mask\") permit (principal, action, resource);", "policy0", 2, "only allowed on an allow policy"},
		{"glass value", "@break_glass(\"yes\") permit (principal, action, resource);", "policy0", 1, `@break_glass("yes")`},
		{"duplicate id", "@id(\"x\") permit (principal, action, resource);\n@id(\"x\") permit (principal, action, resource);", "x", 2, "duplicate rule name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cedaraccess.Parse("p.cedar", []byte(tt.src), cedaraccess.Options{})
			require.ErrorIs(t, err, access.ErrInvalidPolicy)
			var pe *access.PolicyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.rule, pe.Rule)
			assert.Equal(t, tt.line, pe.Line, "error: %v", err)
			assert.Contains(t, pe.Msg, tt.msg)
		})
	}
}

func TestNewTakesASnapshot(t *testing.T) {
	ps := cedar.NewPolicySet()
	var p cedar.Policy
	require.NoError(t, p.UnmarshalCedar([]byte(`permit (principal, action, resource);`)))
	ps.Add("allow-all", &p)
	c, err := cedaraccess.New(ps, cedaraccess.Options{})
	require.NoError(t, err)
	ps.Remove("allow-all")
	d, err := c.Check(context.Background(), access.Request{Principal: policytest.Rep1, Action: access.ActionSearch})
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	assert.Equal(t, "allow-all", d.Rule)
}

func TestMapRequest(t *testing.T) {
	req := access.Request{
		Principal: access.Principal{ID: "emp-1", Roles: []string{"support"}, Tenant: "acme", Attributes: map[string]string{"region": "eu"},
			Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthOTP}, Time: policytest.Now.Add(-90 * time.Second)}},
		Action:     access.ActionReveal,
		Resource:   access.Resource{RecordType: "Customer", Field: "Email", Kind: "email", Class: "contact", OwnerID: "emp-2", SubjectID: "cus-1", Tenant: "acme"},
		Purpose:    access.PurposeSupport,
		BreakGlass: "free text",
	}
	creq, entities := cedaraccess.MapRequest(req, policytest.Now)
	assert.Equal(t, cedar.NewEntityUID("User", "emp-1"), creq.Principal)
	assert.Equal(t, cedar.NewEntityUID("Action", "reveal"), creq.Action)
	assert.Equal(t, cedar.NewEntityUID("Field", "Customer.Email"), creq.Resource)
	age, ok := creq.Context.Get("auth_age")
	require.True(t, ok)
	assert.Equal(t, cedar.NewDuration(90*time.Second), age)
	bg, _ := creq.Context.Get("break_glass")
	assert.Equal(t, cedar.True, bg)
	user := entities[creq.Principal]
	assert.True(t, user.Parents.Contains(cedar.NewEntityUID("Role", "support")))
	mfa, _ := user.Attributes.Get("mfa")
	assert.Equal(t, cedar.True, mfa)
	owner, _ := entities[creq.Resource].Attributes.Get("owner")
	assert.Equal(t, cedar.NewEntityUID("User", "emp-2"), owner)
	// The break-glass text never reaches Cedar.
	js, err := creq.Context.MarshalJSON()
	require.NoError(t, err)
	assert.NotContains(t, string(js), "free text")

	// An unknown or implausible authentication time has no age.
	req.Principal.Auth.Time = time.Time{}
	creq, _ = cedaraccess.MapRequest(req, policytest.Now)
	_, ok = creq.Context.Get("auth_age")
	assert.False(t, ok)
	req.Principal.Auth.Time = policytest.Now.Add(2 * time.Minute)
	creq, _ = cedaraccess.MapRequest(req, policytest.Now)
	_, ok = creq.Context.Get("auth_age")
	assert.False(t, ok)
	req.Principal.Auth.Time = policytest.Now.Add(30 * time.Second)
	creq, _ = cedaraccess.MapRequest(req, policytest.Now)
	age, _ = creq.Context.Get("auth_age")
	assert.Equal(t, cedar.NewDuration(0), age, "within the clock skew counts as just now")
}

func TestCedarNoRequestValueLeaks(t *testing.T) {
	c := loadCedarCRM(t)
	for _, tc := range policytest.Cases() {
		for _, req := range []access.Request{tc.Req, func() access.Request { r := tc.Req; r.BreakGlass = policytest.BreakGlassReason; return r }()} {
			d, err := c.Check(context.Background(), req)
			texts := []string{d.Reason, d.Rule}
			if err != nil {
				texts = append(texts, err.Error())
			}
			for _, text := range texts {
				for _, v := range []string{req.Principal.ID, req.Resource.OwnerID, req.Resource.SubjectID, policytest.Tenant, policytest.OtherTenant, policytest.BreakGlassReason} {
					if v != "" {
						assert.NotContains(t, text, v)
					}
				}
			}
		}
	}
}

func TestCedarDefaultsToTheSystemClock(t *testing.T) {
	c, err := cedaraccess.Parse("p.cedar", []byte(`permit (principal, action, resource) when { context has auth_age && context.auth_age <= duration("1m") };`), cedaraccess.Options{})
	require.NoError(t, err)
	pr := access.Principal{ID: "u", Auth: access.Authentication{Time: time.Now()}}
	d, err := c.Check(context.Background(), access.Request{Principal: pr, Action: access.ActionReveal})
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
}

func BenchmarkCedarCheck20Policies(b *testing.B) {
	c := loadCedarCRM(b)
	p := loadPolicyCRM(b)
	req := access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustStreet, Purpose: access.PurposeSupport}
	for name, chk := range map[string]access.Checker{"cedar": c, "policy": p} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := chk.Check(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
