package access_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// everyQuestion returns every golden request with every golden resource in
// place of its own: the principals, actions, purposes and break-glass
// reasons of the table against all its resources.
func everyQuestion() []access.Request {
	cases := policytest.Cases()
	var out []access.Request
	for _, c := range cases {
		for _, r := range cases {
			q := c.Req
			q.Resource = r.Req.Resource
			out = append(out, q)
		}
	}
	return out
}

func TestPreparedDecidesAsCheck(t *testing.T) {
	var rules []access.Rule
	for i := range 70 {
		rules = append(rules, access.Rule{Name: fmt.Sprintf("r%d", i), Effect: access.Allow, Roles: []string{fmt.Sprintf("role%d", i)}, Actions: []access.Action{access.ActionReveal}, Fields: []string{fmt.Sprintf("F%d", i)}})
	}
	manyRoles, err := access.NewPolicy(rules, access.PolicyOptions{})
	require.NoError(t, err)
	var manyQuestions []access.Request
	for i := range 72 {
		for j := range 72 {
			manyQuestions = append(manyQuestions, access.Request{
				Principal: access.Principal{ID: "u", Roles: []string{fmt.Sprintf("role%d", i), fmt.Sprintf("role%d", (i*7)%72)}},
				Action:    access.ActionReveal, Resource: access.Resource{Field: fmt.Sprintf("F%d", j)},
			})
		}
	}
	ctx := context.Background()
	for name, tc := range map[string]struct {
		p  *access.Policy
		qs []access.Request
	}{"crm": {loadCRM(t, access.FormatYAML), everyQuestion()}, "70 roles": {manyRoles, manyQuestions}} {
		p := tc.p
		var n, prepared atomic.Int64
		for _, q := range tc.qs {
			want, wantErr := p.Check(ctx, q)
			got, gotErr := access.Prepare(p, q).CheckResource(ctx, q.Resource)
			require.Equal(t, want, got, "%s: %+v", name, q)
			require.Equal(t, wantErr, gotErr, "%s: %+v", name, q)
			n.Add(1)
			if want.Effect != access.Deny {
				prepared.Add(1)
			}
		}
		t.Logf("%s: %d questions, %d not denied", name, n.Load(), prepared.Load())
	}
}

func TestPreparedHandlesMissingPrincipalAndUnknownAction(t *testing.T) {
	ctx := context.Background()
	p := loadCRM(t, access.FormatYAML)
	d, err := access.Prepare(p, access.Request{Action: access.ActionReveal}).CheckResource(ctx, policytest.CustEmail)
	assert.ErrorIs(t, err, access.ErrNoPrincipal)
	assert.Equal(t, access.Deny, d.Effect)
	d, err = access.Prepare(p, access.Request{Principal: policytest.Rep1, Action: "peek"}).CheckResource(ctx, policytest.CustEmail)
	assert.ErrorIs(t, err, access.ErrUnknownAction)
	assert.Equal(t, access.Deny, d.Effect)

	var zero access.Prepared
	d, err = zero.CheckResource(ctx, policytest.CustEmail)
	assert.ErrorIs(t, err, access.ErrNoPrincipal, "the zero Prepared fails closed")
	assert.Equal(t, access.Deny, d.Effect)
	assert.Panics(t, func() { access.Prepare(nil, access.Request{}) })
}

// auditedPolicy embeds a *Policy and changes its Check.
type auditedPolicy struct {
	*access.Policy
	calls atomic.Int64
}

func (a *auditedPolicy) Check(ctx context.Context, req access.Request) (access.Decision, error) {
	a.calls.Add(1)
	return a.Policy.Check(ctx, req)
}

func TestPreparedAsksAnyOtherCheckerThroughItsCheck(t *testing.T) {
	calls := 0
	deny := access.CheckerFunc(func(_ context.Context, req access.Request) (access.Decision, error) {
		calls++
		assert.Equal(t, policytest.CustPhone, req.Resource)
		assert.Equal(t, policytest.Rep1, req.Principal)
		return access.Decision{Effect: access.Deny, Reason: "no"}, nil
	})
	d, err := access.Prepare(deny, access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail}).CheckResource(context.Background(), policytest.CustPhone)
	require.NoError(t, err)
	assert.Equal(t, access.Deny, d.Effect)
	assert.Equal(t, 1, calls)

	// A type that embeds a *Policy to change its Check is not bypassed.
	ap := &auditedPolicy{Policy: loadCRM(t, access.FormatYAML)}
	pr := access.Prepare(ap, access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Purpose: access.PurposeSupport})
	for range 3 {
		d, err := pr.CheckResource(context.Background(), policytest.CustEmail)
		require.NoError(t, err)
		assert.Equal(t, access.Allow, d.Effect)
	}
	assert.EqualValues(t, 3, ap.calls.Load(), "every question reaches the Checker")
}

func TestPreparedReadsTheClockOnceAndOnlyForMFARules(t *testing.T) {
	var reads atomic.Int64
	clock := func() time.Time { reads.Add(1); return policytest.Now }
	p, err := access.LoadPolicyFile("testdata/crm.yaml", access.PolicyOptions{Now: clock})
	require.NoError(t, err)
	ctx := context.Background()

	pr := access.Prepare(p, access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Purpose: access.PurposeSupport})
	for _, r := range []access.Resource{policytest.CustEmail, policytest.CustStreet, policytest.CustCard} {
		_, err := pr.CheckResource(ctx, r)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, reads.Load(), "one reading for the operation")

	reads.Store(0)
	pr = access.Prepare(p, access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Purpose: "sales"})
	_, err = pr.CheckResource(ctx, policytest.CustEmail)
	require.NoError(t, err)
	assert.Zero(t, reads.Load(), "no rule of a sales rep has an MFA condition")

	reads.Store(0)
	_, err = p.Check(ctx, access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: "sales"})
	require.NoError(t, err)
	assert.Zero(t, reads.Load(), "nor does Check read it then")
}

func TestPreparedResetReusesAndForgets(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	ctx := context.Background()
	var pr access.Prepared
	pr.Reset(p, access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Purpose: "sales"})
	d, err := pr.CheckResource(ctx, policytest.CustEmail)
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	pr.Reset(p, access.Request{Principal: policytest.Rep2, Action: access.ActionReveal, Purpose: "sales"})
	d, err = pr.CheckResource(ctx, policytest.CustEmail)
	require.NoError(t, err)
	assert.Equal(t, access.Mask, d.Effect, "another principal, another answer")
	pr.Reset(nil, access.Request{})
	_, err = pr.CheckResource(ctx, policytest.CustEmail)
	assert.ErrorIs(t, err, access.ErrNoPrincipal)
}

func TestPreparedIsSafeForConcurrentUse(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	cases := policytest.Cases()
	prs := make([]*access.Prepared, len(cases))
	for i, c := range cases {
		prs[i] = access.Prepare(p, c.Req)
	}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				for i, c := range cases {
					d, err := prs[i].CheckResource(context.Background(), c.Req.Resource)
					if err != nil || d.Effect != c.Want {
						t.Errorf("%s: got %v, %v", c.Name, d.Effect, err)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func TestPolicyReportsTheRecordInputsItReads(t *testing.T) {
	assert.Equal(t, access.RecordInputs{OwnerID: true, Tenant: true}, loadCRM(t, access.FormatYAML).RecordInputs())
	p, err := access.NewPolicy([]access.Rule{{Name: "r", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}}}, access.PolicyOptions{})
	require.NoError(t, err)
	assert.Equal(t, access.RecordInputs{}, p.RecordInputs())
	var _ access.RecordInputReporter = p
}

// A Prepared over InsecureAllowAll decides every request at once; over any
// other Checker it says nothing of the sort.
func TestPreparedUniform(t *testing.T) {
	ctx := context.Background()
	for _, q := range everyQuestion() {
		p := access.Prepare(access.InsecureAllowAll, q)
		d, ok := p.Uniform()
		require.True(t, ok)
		want, err := access.InsecureAllowAll.Check(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, want, d, "the one decision is Check's")
		got, err := p.CheckResource(ctx, q.Resource)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.True(t, access.InsecureAllowAll == access.Checker(access.InsecureAllowAll), "comparable")

	allowAllFunc := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Effect: access.Allow}, nil
	})
	for _, c := range []access.Checker{loadCRM(t, access.FormatYAML), allowAllFunc, access.NewMemo(access.InsecureAllowAll)} {
		assert.False(t, c == access.InsecureAllowAll)
		p := access.Prepare(c, policytest.Cases()[0].Req)
		_, ok := p.Uniform()
		assert.False(t, ok, "%T", c)
	}
	p := access.Prepare(access.InsecureAllowAll, access.Request{})
	p.Reset(loadCRM(t, access.FormatYAML), access.Request{})
	_, ok := p.Uniform()
	assert.False(t, ok, "Reset forgets the earlier Checker")
	var zero access.Prepared
	_, ok = zero.Uniform()
	assert.False(t, ok, "the zero Prepared denies")
}
