package access_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// countingChecker counts the calls that reach it.
type countingChecker struct {
	calls atomic.Int64
	next  access.Checker
}

func (c *countingChecker) Check(ctx context.Context, req access.Request) (access.Decision, error) {
	c.calls.Add(1)
	return c.next.Check(ctx, req)
}

func TestMemoAsksOncePerQuestion(t *testing.T) {
	cc := &countingChecker{next: loadCRM(t, access.FormatYAML)}
	m := access.NewMemo(cc)
	ctx := context.Background()
	req := access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: access.PurposeSupport}
	for i := 0; i < 5; i++ {
		d, err := m.Check(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, access.Allow, d.Effect)
	}
	assert.EqualValues(t, 1, cc.calls.Load())

	other := req
	other.Resource = policytest.CustPhone
	_, err := m.Check(ctx, other)
	require.NoError(t, err)
	assert.EqualValues(t, 2, cc.calls.Load(), "another field is another question")
}

func TestMemoOverPolicySharesDecisionsAcrossIrrelevantFields(t *testing.T) {
	// The CRM policy has owner-only and same-tenant rules, so owners and
	// tenants count; subject IDs and break-glass texts never do.
	crm := loadCRM(t, access.FormatYAML)
	m := access.NewMemo(crm)
	ctx := context.Background()
	req := access.Request{Principal: policytest.Oncall, Action: access.ActionReveal, Resource: policytest.CustEmail, BreakGlass: "one"}
	d1, err := m.Check(ctx, req)
	require.NoError(t, err)
	req.Resource.SubjectID = "another-subject"
	req.BreakGlass = "two"
	d2, err := m.Check(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, d1, d2)
	assert.True(t, d2.Alert)

	// Without owner-only rules, records of different owners share one
	// decision; with them they do not.
	noOwner, err := access.NewPolicy([]access.Rule{{Name: "r", Effect: access.Allow, Roles: []string{"*"}, Actions: []access.Action{access.ActionReveal}}}, access.PolicyOptions{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		p    *access.Policy
		want int
	}{{"no owner-only rule", noOwner, 1}, {"owner-only rules", crm, 10}} {
		m := access.NewMemo(tc.p)
		for i := 0; i < 10; i++ {
			r := access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail}
			r.Resource.OwnerID = fmt.Sprintf("owner-%d", i)
			_, err := m.Check(ctx, r)
			require.NoError(t, err)
		}
		assert.Equal(t, tc.want, access.MemoLen(m), tc.name)
	}
}

func TestMemoOverOtherCheckersKeysOnTheWholeRequest(t *testing.T) {
	cc := &countingChecker{next: access.InsecureAllowAll}
	m := access.NewMemo(cc)
	req := access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail}
	_, _ = m.Check(context.Background(), req)
	req.Resource.SubjectID = "other"
	_, _ = m.Check(context.Background(), req)
	req.BreakGlass = "why"
	_, _ = m.Check(context.Background(), req)
	assert.EqualValues(t, 3, cc.calls.Load())
}

func TestMemoDistinguishesPrincipals(t *testing.T) {
	m := access.NewMemo(loadCRM(t, access.FormatYAML))
	ctx := context.Background()
	fresh := access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: access.PurposeSupport}
	stale := fresh
	stale.Principal = policytest.SupportFresh
	stale.Principal.Auth.Time = policytest.Now.Add(-policytest.Now.Sub(policytest.SupportStale.Auth.Time))
	d, err := m.Check(ctx, fresh)
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	d, err = m.Check(ctx, stale)
	require.NoError(t, err)
	assert.Equal(t, access.Mask, d.Effect, "same ID, older authentication: another principal")
}

func TestMemoDoesNotRememberErrors(t *testing.T) {
	fail := true
	cc := &countingChecker{next: access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		if fail {
			return access.Decision{}, errors.New("unavailable")
		}
		return access.Decision{Effect: access.Allow}, nil
	})}
	m := access.NewMemo(cc)
	req := access.Request{Principal: policytest.Rep1, Action: access.ActionReveal}
	_, err := m.Check(context.Background(), req)
	require.Error(t, err)
	fail = false
	d, err := m.Check(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, access.Allow, d.Effect)
	_, _ = m.Check(context.Background(), req)
	assert.EqualValues(t, 2, cc.calls.Load())
}

func TestMemoPassesMissingPrincipalThrough(t *testing.T) {
	m := access.NewMemo(loadCRM(t, access.FormatYAML))
	d, err := m.Check(context.Background(), access.Request{Action: access.ActionReveal})
	require.ErrorIs(t, err, access.ErrNoPrincipal)
	assert.Equal(t, access.Deny, d.Effect)
}

func TestMemoIsBounded(t *testing.T) {
	cc := &countingChecker{next: access.InsecureAllowAll}
	m := access.NewMemo(cc)
	ctx := context.Background()
	// Past the principal bound, requests pass through.
	for i := 0; i < 20; i++ {
		p := access.Principal{ID: fmt.Sprintf("p%d", i)}
		for j := 0; j < 2; j++ {
			_, err := m.Check(ctx, access.Request{Principal: p, Action: access.ActionReveal})
			require.NoError(t, err)
		}
	}
	assert.EqualValues(t, 8+12*2, cc.calls.Load())
	// Past the entry bound, new questions are not remembered.
	for i := 0; i < 5000; i++ {
		_, err := m.Check(ctx, access.Request{Principal: access.Principal{ID: "p0"}, Action: access.ActionReveal, Resource: access.Resource{Field: fmt.Sprint(i)}})
		require.NoError(t, err)
	}
	assert.Equal(t, 4096, access.MemoLen(m))
}

func TestMemoIsSafeForConcurrentUse(t *testing.T) {
	m := access.NewMemo(loadCRM(t, access.FormatYAML))
	cases := policytest.Cases()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				for _, c := range cases {
					d, err := m.Check(context.Background(), c.Req)
					if err != nil || d.Effect != c.Want || d.Rule != c.Rule {
						t.Errorf("%s: got %+v, %v", c.Name, d, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestNewMemoPanicsOnNil(t *testing.T) {
	assert.PanicsWithValue(t, "access: NewMemo called with a nil Checker", func() { access.NewMemo(nil) })
}
