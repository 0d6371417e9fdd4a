package access_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// loadCRM loads the golden CRM policy in the given format.
func loadCRM(t testing.TB, f access.Format) *access.Policy {
	t.Helper()
	name := "testdata/crm.yaml"
	if f == access.FormatJSON {
		name = "testdata/crm.json"
	}
	p, err := access.LoadPolicyFile(name, access.PolicyOptions{Now: policytest.Clock})
	require.NoError(t, err)
	return p
}

func TestPolicyDecidesGoldenCases(t *testing.T) {
	for _, f := range []access.Format{access.FormatYAML, access.FormatJSON} {
		p := loadCRM(t, f)
		for _, c := range policytest.Cases() {
			t.Run(f.String()+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				d, err := p.Check(context.Background(), c.Req)
				require.NoError(t, err)
				assert.Equal(t, c.Want, d.Effect, "reason: %s", d.Reason)
				assert.Equal(t, c.Rule, d.Rule)
				assert.Equal(t, c.Alert, d.Alert)
				assert.NotEmpty(t, d.Reason)
			})
		}
	}
}

func TestYAMLAndJSONGoldenFilesAreTheSamePolicy(t *testing.T) {
	y := loadCRM(t, access.FormatYAML).Rules()
	j := loadCRM(t, access.FormatJSON).Rules()
	require.Len(t, y, 20)
	assert.Equal(t, y, j)
	assert.Equal(t, "sales-rep-own-customers", y[0].Name)
	assert.True(t, y[0].OwnerOnly)
	assert.Equal(t, 15*time.Minute, y[3].MFAWithin)
	assert.Equal(t, map[string]string{"region": "eu"}, y[12].Attributes)
	assert.True(t, y[16].BreakGlass)
}

func TestRulesReturnsACopy(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	rules := p.Rules()
	rules[0].Roles[0] = "support"
	rules[12].Attributes["region"] = "us"
	again := p.Rules()
	assert.Equal(t, "sales_rep", again[0].Roles[0])
	assert.Equal(t, "eu", again[12].Attributes["region"])
}

func TestMissingPrincipalIsDeniedWithErrNoPrincipal(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	for name, pr := range map[string]access.Principal{
		"zero":             {},
		"roles but no ID":  {Roles: []string{"support"}, Tenant: policytest.Tenant},
		"attributes no ID": {Attributes: map[string]string{"region": "eu"}},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := p.Check(context.Background(), access.Request{Principal: pr, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: access.PurposeSupport})
			require.ErrorIs(t, err, access.ErrNoPrincipal)
			assert.Equal(t, access.Deny, d.Effect)
			assert.NotEmpty(t, d.Reason)
		})
	}
}

func TestUnknownActionIsDeniedWithErrUnknownAction(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	for _, a := range []access.Action{"", "read", "REVEAL", "*"} {
		d, err := p.Check(context.Background(), access.Request{Principal: policytest.SupportFresh, Action: a, Resource: policytest.CustEmail, Purpose: access.PurposeSupport})
		require.ErrorIs(t, err, access.ErrUnknownAction, "action %q", a)
		assert.Equal(t, access.Deny, d.Effect)
	}
}

func TestEmptyPolicyDeniesEverything(t *testing.T) {
	p, err := access.NewPolicy(nil, access.PolicyOptions{})
	require.NoError(t, err)
	d, err := p.Check(context.Background(), access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustEmail})
	require.NoError(t, err)
	assert.Equal(t, access.Decision{Effect: access.Deny, Reason: "no rule allows this request (default deny)"}, d)
}

func TestPrecedenceDenyThenAllowThenBreakGlassThenMask(t *testing.T) {
	rule := func(name string, e access.Effect) access.Rule {
		return access.Rule{Name: name, Effect: e, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}}
	}
	glass := rule("glass", access.Allow)
	glass.BreakGlass = true
	req := access.Request{Principal: access.Principal{ID: "u", Roles: []string{"r"}}, Action: access.ActionReveal, BreakGlass: "reason"}
	tests := []struct {
		name  string
		rules []access.Rule
		want  access.Decision
	}{
		{"deny after allow still wins", []access.Rule{rule("a", access.Allow), rule("d", access.Deny)}, access.Decision{Effect: access.Deny, Rule: "d", Reason: `denied by rule "d"`}},
		{"allow beats mask listed first", []access.Rule{rule("m", access.Mask), rule("a", access.Allow)}, access.Decision{Effect: access.Allow, Rule: "a", Reason: `allowed by rule "a"`}},
		{"allow beats break-glass", []access.Rule{glass, rule("a", access.Allow)}, access.Decision{Effect: access.Allow, Rule: "a", Reason: `allowed by rule "a"`}},
		{"break-glass beats mask", []access.Rule{rule("m", access.Mask), glass}, access.Decision{Effect: access.Allow, Rule: "glass", Alert: true, Reason: `break-glass: allowed by rule "glass" on a stated reason; alert raised`}},
		{"first allow in order names the decision", []access.Rule{rule("a1", access.Allow), rule("a2", access.Allow)}, access.Decision{Effect: access.Allow, Rule: "a1", Reason: `allowed by rule "a1"`}},
		{"first mask in order names the decision", []access.Rule{rule("m1", access.Mask), rule("m2", access.Mask)}, access.Decision{Effect: access.Mask, Rule: "m1", Reason: `masked by rule "m1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := access.NewPolicy(tt.rules, access.PolicyOptions{})
			require.NoError(t, err)
			d, err := p.Check(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestUnmetConditionIsNamedInTheDenyReason(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	tests := []struct {
		name string
		req  access.Request
		want string
	}{
		{"purpose", access.Request{Principal: policytest.SupportFresh, Action: access.ActionSearch, Resource: policytest.OrderEmail, Purpose: access.PurposeFraud},
			`no rule allows this request; rule "support-search" requires purpose support`},
		{"tenant", access.Request{Principal: policytest.SupportGlobex, Action: access.ActionSearch, Resource: policytest.OrderEmail, Purpose: access.PurposeSupport},
			`no rule allows this request; rule "support-search" requires the same tenant as the record`},
		{"owner", access.Request{Principal: policytest.Rep2, Action: access.ActionSearch, Resource: policytest.CustEmail, Purpose: access.PurposeSupport},
			`no rule allows this request; rule "sales-rep-own-customers" requires the principal to own the record`},
		{"attributes", access.Request{Principal: policytest.MarketingUS, Action: access.ActionExport, Resource: policytest.CustEmail, Purpose: access.PurposeMarketing},
			`no rule allows this request; rule "marketing-eu-email-export" requires principal attributes region to match`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Check(context.Background(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, access.Deny, d.Effect)
			assert.Equal(t, tt.want, d.Reason)
		})
	}

	stale := policytest.SecAdmin
	stale.Auth.Time = policytest.Now.Add(-time.Hour)
	d, err := p.Check(context.Background(), access.Request{Principal: stale, Action: access.ActionKeyAdmin, Purpose: access.PurposeSecurity})
	require.NoError(t, err)
	assert.Equal(t, `no rule allows this request; rule "security-key-admin" requires MFA within 5m0s`, d.Reason)

	glass := []access.Rule{{Name: "glass", Effect: access.Allow, BreakGlass: true, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}}}
	gp, err := access.NewPolicy(glass, access.PolicyOptions{})
	require.NoError(t, err)
	d, err = gp.Check(context.Background(), access.Request{Principal: policytest.Oncall, Action: access.ActionReveal})
	require.NoError(t, err)
	assert.Equal(t, `no rule allows this request; rule "glass" requires a stated break-glass reason`, d.Reason)
}

func TestMFAFreshnessUsesTheInjectedClock(t *testing.T) {
	now := policytest.Now
	rules := []access.Rule{{Name: "mfa", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}, MFAWithin: 10 * time.Minute}}
	p, err := access.NewPolicy(rules, access.PolicyOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	pr := access.Principal{ID: "u", Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthWebAuthn}, Time: policytest.Now}}
	check := func() access.Effect {
		d, err := p.Check(context.Background(), access.Request{Principal: pr, Action: access.ActionReveal})
		require.NoError(t, err)
		return d.Effect
	}
	assert.Equal(t, access.Allow, check())
	now = policytest.Now.Add(10 * time.Minute)
	assert.Equal(t, access.Allow, check(), "the window is inclusive")
	now = policytest.Now.Add(10*time.Minute + time.Millisecond)
	assert.Equal(t, access.Deny, check())
	now = policytest.Now.Add(-time.Minute)
	assert.Equal(t, access.Allow, check(), "a minute of clock skew is tolerated")
	now = policytest.Now.Add(-time.Minute - time.Millisecond)
	assert.Equal(t, access.Deny, check(), "an authentication time further in the future is not fresh")
}

func TestPolicyDefaultsToTheSystemClock(t *testing.T) {
	rules := []access.Rule{{Name: "mfa", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}, MFAWithin: time.Minute}}
	p, err := access.NewPolicy(rules, access.PolicyOptions{})
	require.NoError(t, err)
	pr := access.Principal{ID: "u", Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthMFA}, Time: time.Now()}}
	d, err := p.Check(context.Background(), access.Request{Principal: pr, Action: access.ActionReveal})
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
}

func TestSelectorsMatchExactPrefixWildcardAndLongLists(t *testing.T) {
	long := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "Email"}
	rules := []access.Rule{
		{Name: "long", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionSearch}, Fields: long},
		{Name: "prefix", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}, Fields: []string{"Address.*"}, RecordTypes: []string{"*"}},
		{Name: "all", Effect: access.Allow, Roles: []string{"r"}, Actions: []access.Action{"*"}, Kinds: []string{"*"}},
	}
	p, err := access.NewPolicy(rules, access.PolicyOptions{})
	require.NoError(t, err)
	pr := access.Principal{ID: "u", Roles: []string{"x"}}
	eff := func(pr access.Principal, a access.Action, field string) access.Effect {
		d, err := p.Check(context.Background(), access.Request{Principal: pr, Action: a, Resource: access.Resource{RecordType: "Customer", Field: field}})
		require.NoError(t, err)
		return d.Effect
	}
	assert.Equal(t, access.Allow, eff(pr, access.ActionSearch, "Email"))
	assert.Equal(t, access.Deny, eff(pr, access.ActionSearch, "Phone"))
	assert.Equal(t, access.Deny, eff(pr, access.ActionSearch, ""))
	assert.Equal(t, access.Allow, eff(pr, access.ActionReveal, "Address.Street"))
	assert.Equal(t, access.Deny, eff(pr, access.ActionReveal, "Addresses"))
	assert.Equal(t, access.Allow, eff(access.Principal{ID: "u", Roles: []string{"r"}}, access.ActionKeyAdmin, ""))
}

func TestMaskRulesApplyToRevealAndExportOnly(t *testing.T) {
	rules := []access.Rule{{Name: "m", Effect: access.Mask, Roles: []string{"*"}, Actions: []access.Action{"*"}}}
	p, err := access.NewPolicy(rules, access.PolicyOptions{})
	require.NoError(t, err)
	pr := access.Principal{ID: "u"}
	for _, a := range []access.Action{access.ActionReveal, access.ActionExport, access.ActionSearch, access.ActionErase, access.ActionKeyAdmin, access.ActionTokenize, access.ActionDetokenize} {
		d, err := p.Check(context.Background(), access.Request{Principal: pr, Action: a})
		require.NoError(t, err)
		want := access.Deny
		if a == access.ActionReveal || a == access.ActionExport {
			want = access.Mask
		}
		assert.Equal(t, want, d.Effect, "action %s", a)
	}
}

func TestNewPolicyRejectsInvalidRules(t *testing.T) {
	ok := access.Rule{Name: "ok", Effect: access.Allow, Roles: []string{"support"}, Actions: []access.Action{access.ActionReveal}}
	with := func(f func(*access.Rule)) access.Rule { r := ok; f(&r); return r }
	tests := []struct {
		name     string
		rules    []access.Rule
		opts     access.PolicyOptions
		rule     string
		sentinel error
		msg      string
	}{
		{"no name", []access.Rule{with(func(r *access.Rule) { r.Name = "" })}, access.PolicyOptions{}, "#1", nil, "missing name"},
		{"bad name", []access.Rule{ok, with(func(r *access.Rule) { r.Name = "a b" })}, access.PolicyOptions{}, "#2", nil, `name "a b"`},
		{"duplicate", []access.Rule{ok, ok}, access.PolicyOptions{}, "ok", nil, "duplicate rule name (also rule #1)"},
		{"bad effect", []access.Rule{with(func(r *access.Rule) { r.Effect = 9 })}, access.PolicyOptions{}, "ok", nil, "invalid effect"},
		{"no roles", []access.Rule{with(func(r *access.Rule) { r.Roles = nil })}, access.PolicyOptions{}, "ok", nil, "missing roles"},
		{"empty role", []access.Rule{with(func(r *access.Rule) { r.Roles = []string{""} })}, access.PolicyOptions{}, "ok", nil, "empty role"},
		{"unknown role", []access.Rule{ok}, access.PolicyOptions{Roles: []string{"sales_rep"}}, "ok", access.ErrUnknownRole, `unknown role "support"`},
		{"no actions", []access.Rule{with(func(r *access.Rule) { r.Actions = nil })}, access.PolicyOptions{}, "ok", nil, "missing actions"},
		{"unknown action", []access.Rule{with(func(r *access.Rule) { r.Actions = []access.Action{"read"} })}, access.PolicyOptions{}, "ok", access.ErrUnknownAction, `unknown action "read"`},
		{"mask erase", []access.Rule{with(func(r *access.Rule) { r.Effect = access.Mask; r.Actions = []access.Action{access.ActionErase} })}, access.PolicyOptions{}, "ok", nil, "reveal and export only"},
		{"empty selector", []access.Rule{with(func(r *access.Rule) { r.Fields = []string{""} })}, access.PolicyOptions{}, "ok", nil, "empty name"},
		{"inner wildcard", []access.Rule{with(func(r *access.Rule) { r.Classes = []string{"a*b"} })}, access.PolicyOptions{}, "ok", nil, "only a trailing *"},
		{"unknown purpose", []access.Rule{with(func(r *access.Rule) { r.Purposes = []access.Purpose{"sales"} })}, access.PolicyOptions{}, "ok", access.ErrUnknownPurpose, `unknown purpose "sales"`},
		{"empty attribute", []access.Rule{with(func(r *access.Rule) { r.Attributes = map[string]string{"": "x"} })}, access.PolicyOptions{}, "ok", nil, "empty attribute name"},
		{"break-glass deny", []access.Rule{with(func(r *access.Rule) { r.Effect = access.Deny; r.BreakGlass = true })}, access.PolicyOptions{}, "ok", nil, "break_glass is only allowed on an allow rule"},
		{"negative mfa", []access.Rule{with(func(r *access.Rule) { r.MFAWithin = -time.Second })}, access.PolicyOptions{}, "ok", nil, "mfa_within must be positive"},
		{"mfa on deny", []access.Rule{with(func(r *access.Rule) { r.Effect = access.Deny; r.MFAWithin = time.Minute })}, access.PolicyOptions{}, "ok", nil, "not allowed on a deny rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := access.NewPolicy(tt.rules, tt.opts)
			require.ErrorIs(t, err, access.ErrInvalidPolicy)
			if tt.sentinel != nil {
				require.ErrorIs(t, err, tt.sentinel)
			}
			var pe *access.PolicyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.rule, pe.Rule)
			assert.Equal(t, 0, pe.Line)
			assert.Contains(t, pe.Msg, tt.msg)
			assert.Contains(t, err.Error(), `access: invalid policy: rule "`+tt.rule+`": `)
		})
	}
}

func TestDeclaredPurposesAndRolesInOptions(t *testing.T) {
	r := access.Rule{Name: "ok", Effect: access.Allow, Roles: []string{"sales_rep"}, Actions: []access.Action{access.ActionReveal}, Purposes: []access.Purpose{"sales"}}
	_, err := access.NewPolicy([]access.Rule{r}, access.PolicyOptions{Roles: []string{"sales_rep"}, Purposes: []access.Purpose{"sales"}})
	require.NoError(t, err)
}

func TestDecisionErr(t *testing.T) {
	assert.NoError(t, access.Decision{Effect: access.Allow}.Err())
	assert.NoError(t, access.Decision{Effect: access.Mask}.Err())
	err := access.Decision{Effect: access.Deny, Rule: "r", Reason: "denied by rule"}.Err()
	require.ErrorIs(t, err, access.ErrDenied)
	assert.Equal(t, `access: denied by rule "r": denied by rule`, err.Error())
	err = access.Decision{Reason: "no rule"}.Err()
	require.ErrorIs(t, err, access.ErrDenied)
	assert.Equal(t, "access: denied: no rule", err.Error())
}

func TestEffectString(t *testing.T) {
	assert.Equal(t, "deny", access.Deny.String())
	assert.Equal(t, "mask", access.Mask.String())
	assert.Equal(t, "allow", access.Allow.String())
	assert.Equal(t, "Effect(7)", access.Effect(7).String())
	assert.Equal(t, access.Deny, access.Decision{}.Effect, "the zero decision denies")
}

func TestParseAction(t *testing.T) {
	for _, s := range []string{"reveal", "search", "export", "tokenize", "detokenize", "erase", "key-admin"} {
		a, err := access.ParseAction(s)
		require.NoError(t, err)
		assert.Equal(t, access.Action(s), a)
		assert.True(t, a.Valid())
	}
	_, err := access.ParseAction("delete")
	require.ErrorIs(t, err, access.ErrUnknownAction)
	assert.Equal(t, `access: unknown action "delete"`, err.Error())
}

func TestInsecureAllowAll(t *testing.T) {
	d, err := access.InsecureAllowAll.Check(context.Background(), access.Request{})
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	assert.Equal(t, "insecure-allow-all", d.Rule)
}

func TestCheckerFunc(t *testing.T) {
	want := errors.New("backend down")
	c := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Reason: "unavailable"}, want
	})
	d, err := c.Check(context.Background(), access.Request{})
	assert.ErrorIs(t, err, want)
	assert.Equal(t, access.Deny, d.Effect)
}

func TestPolicyIsSafeForConcurrentUse(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	cases := policytest.Cases()
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				for _, c := range cases {
					d, err := p.Check(context.Background(), c.Req)
					if err != nil || d.Effect != c.Want {
						t.Errorf("%s: got %v, %v", c.Name, d.Effect, err)
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestGoldenFilesExist(t *testing.T) {
	for _, name := range []string{"testdata/crm.yaml", "testdata/crm.json"} {
		_, err := os.Stat(name)
		require.NoError(t, err)
	}
}

func TestPolicyWithManyRoles(t *testing.T) {
	var rules []access.Rule
	for i := 0; i < 70; i++ {
		rules = append(rules, access.Rule{Name: fmt.Sprintf("r%d", i), Effect: access.Allow, Roles: []string{fmt.Sprintf("role%d", i)}, Actions: []access.Action{access.ActionReveal}, Fields: []string{fmt.Sprintf("F%d", i)}})
	}
	p, err := access.NewPolicy(rules, access.PolicyOptions{})
	require.NoError(t, err)
	check := func(role, field string) access.Decision {
		d, err := p.Check(context.Background(), access.Request{Principal: access.Principal{ID: "u", Roles: []string{"x", role}}, Action: access.ActionReveal, Resource: access.Resource{Field: field}})
		require.NoError(t, err)
		return d
	}
	assert.Equal(t, "r69", check("role69", "F69").Rule)
	assert.Equal(t, "r3", check("role3", "F3").Rule)
	assert.Equal(t, access.Deny, check("role3", "F4").Effect)
	assert.Equal(t, access.Deny, check("role70", "F70").Effect)
}
