package pii

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// CRMAccount is a CRM record with an owner (the sales rep) and a tenant.
type CRMAccount struct {
	ID         string `pii:"id,owner=SalesRepID,tenant=Tenant"`
	SalesRepID string
	Tenant     string
	Name       string           `pii:"name"`
	Email      string           `pii:"email,search=EmailIndex"`
	EmailIndex string           //
	Phone      *string          `pii:"phone"`
	NationalID []byte           `pii:"national_id"`
	BirthDate  Value[time.Time] `pii:"dob"`
	Notes      string           `pii:"text"` // class general: only break-glass reveals it
}

func account(id, owner string) CRMAccount {
	phone := "+44 20 7946 8000"
	return CRMAccount{
		ID: id, SalesRepID: owner, Tenant: "acme",
		Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: &phone,
		NationalID: []byte("11010519491231002X"),
		BirthDate:  ValueOf(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC)),
		Notes:      "prefers calls after 6pm",
	}
}

// accountSecrets are the values of account(), for leak scans.
var accountSecrets = []string{"Westenra", "lucy.westenra", "7946 8000", "79468000", "11010519491231002X", "1987-04-12", "after 6pm"}

func loadTestPolicy(t testing.TB, now func() time.Time) *access.Policy {
	t.Helper()
	p, err := access.LoadPolicyFile("testdata/access-policy.yaml", access.PolicyOptions{Now: now})
	require.NoError(t, err)
	return p
}

var (
	t0      = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock   = func() time.Time { return t0 }
	rep7    = access.Principal{ID: "rep-7", Roles: []string{"sales_rep"}, Tenant: "acme"}
	support = access.Principal{ID: "sup-1", Roles: []string{"support"}, Tenant: "acme",
		Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthPassword}, Time: t0.Add(-time.Hour)}}
	supportMFA = access.Principal{ID: "sup-2", Roles: []string{"support"}, Tenant: "acme",
		Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthPassword, access.AuthOTP}, Time: t0.Add(-5 * time.Minute)}}
	oncall = access.Principal{ID: "oc-1", Roles: []string{"oncall"}}
)

func as(p access.Principal, purpose access.Purpose) context.Context {
	c := access.WithPrincipal(ctx, p)
	if purpose != "" {
		c = access.WithPurpose(c, purpose)
	}
	return c
}

// sealedAccount returns account(id, owner) sealed by env.
func sealedAccount(t testing.TB, env *testEnv, id, owner string) CRMAccount {
	t.Helper()
	a := account(id, owner)
	require.NoError(t, env.p.Seal(ctx, &a))
	return a
}

// view is what a caller sees of an opened CRMAccount.
type view struct {
	Name, Email, Phone, NationalID, BirthDate, Notes string
}

func viewOf(a CRMAccount) view {
	v := view{Name: a.Name, Email: a.Email, NationalID: string(a.NationalID), Notes: a.Notes}
	switch {
	case a.Phone == nil:
		v.Phone = "<nil>"
	default:
		v.Phone = *a.Phone
	}
	if a.NationalID == nil {
		v.NationalID = "<nil>"
	}
	if m, ok := a.BirthDate.Masked(); ok {
		v.BirthDate = "masked:" + m
	} else if d, err := a.BirthDate.Reveal(); err == nil && !a.BirthDate.IsZero() {
		v.BirthDate = d.Format(time.DateOnly)
	}
	return v
}

var (
	plainView = view{Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000",
		NationalID: "11010519491231002X", BirthDate: "1987-04-12", Notes: "prefers calls after 6pm"}
	deniedView = view{Phone: "<nil>", NationalID: "<nil>"}
)

func TestNewRequiresAChecker(t *testing.T) {
	env := newEnv(t, Options{})
	_, err := New(env.kr, Options{})
	require.ErrorIs(t, err, ErrNoChecker)
	assert.Contains(t, err.Error(), "access.InsecureAllowAll")
	_, err = New(env.kr, Options{Checker: access.InsecureAllowAll})
	assert.NoError(t, err)
}

// TestOpenEnforcesAccessPerField opens the same sealed account as several
// principals and checks every field against the policy: allow shows the
// plaintext, mask the kind's mask, deny the zero value.
func TestOpenEnforcesAccessPerField(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want view
	}{
		{"owner sees contact and identity, not the national ID or notes", as(rep7, ""),
			view{Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000", NationalID: "<nil>", BirthDate: "1987-04-12"}},
		{"another rep sees masks", as(access.Principal{ID: "rep-8", Roles: []string{"sales_rep"}, Tenant: "acme"}, ""),
			view{Name: "L. W.", Email: "l***@example.com", Phone: "*** **** 8000", NationalID: "<nil>", BirthDate: "masked:1987-**-**"}},
		{"a rep of another tenant sees nothing", as(access.Principal{ID: "rep-7", Roles: []string{"sales_rep"}, Tenant: "globex"}, ""), deniedView},
		{"support without MFA sees the national ID masked", as(support, access.PurposeSupport),
			view{Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000", NationalID: "**************002X", BirthDate: "1987-04-12"}},
		{"support after a recent MFA sees the national ID", as(supportMFA, access.PurposeSupport),
			view{Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000", NationalID: "11010519491231002X", BirthDate: "1987-04-12"}},
		{"support without a purpose sees nothing", as(supportMFA, ""), deniedView},
		{"no principal sees nothing", ctx, deniedView},
		{"on-call without a reason sees nothing", as(oncall, ""), deniedView},
		{"on-call breaking glass sees everything", access.WithBreakGlass(as(oncall, access.PurposeSecurity), "INC-4711 account takeover"), plainView},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, Options{Checker: loadTestPolicy(t, clock)})
			a := sealedAccount(t, env, "acc_1", "rep-7")
			require.NoError(t, env.p.Open(tc.ctx, &a))
			assert.Equal(t, tc.want, viewOf(a))
			assert.Equal(t, "acc_1", a.ID)
			assert.Equal(t, "rep-7", a.SalesRepID, "untagged fields are kept")
			assert.NotEmpty(t, a.EmailIndex, "Open leaves indexes alone")
			ev := env.events.all()
			assert.Equal(t, []string{"BirthDate", "Email", "Name", "NationalID", "Notes", "Phone"}, fieldsOf(ev), "every non-empty field in one event")
			decisions := map[string]bool{}
			for _, e := range ev {
				assert.False(t, decisions[e.Decision], "one event per decision")
				decisions[e.Decision] = true
			}
		})
	}
}

// fieldsOf returns the sorted field paths that events list.
func fieldsOf(events []audit.Event) []string {
	var fs []string
	for _, e := range events {
		fs = append(fs, strings.Split(e.Field, ",")...)
	}
	slices.Sort(fs)
	return fs
}

func TestOpenEventsDescribeEachDecision(t *testing.T) {
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock)})
	a := sealedAccount(t, env, "acc_1", "rep-7")
	c := audit.WithRequestID(as(support, access.PurposeSupport), "req-42")
	require.NoError(t, env.p.Open(c, &a))
	ev := env.events.all()
	require.Len(t, ev, 3, "one event per decision: allow, mask, deny")
	for _, e := range ev {
		assert.Equal(t, audit.ActionReveal, e.Action)
		assert.Equal(t, "sup-1", e.Actor)
		assert.Equal(t, "support", e.Purpose)
		assert.Equal(t, "req-42", e.RequestID)
		assert.Equal(t, "CRMAccount", e.RecordType)
		assert.Equal(t, "acc_1", e.SubjectID)
		assert.False(t, e.Time.IsZero())
	}
	allow, mask, deny := ev[0], ev[1], ev[2]
	assert.Equal(t, audit.DecisionAllow, allow.Decision)
	assert.Equal(t, audit.OutcomeSuccess, allow.Outcome)
	assert.Equal(t, "Name,Email,Phone,BirthDate", allow.Field)
	assert.Equal(t, "identity,contact", allow.Class)
	assert.Equal(t, `allowed by rule "support-contact"`, allow.Reason)
	assert.Equal(t, DefaultFieldKeyset, allow.KeyName)
	assert.NotZero(t, allow.KeyID)

	assert.Equal(t, audit.DecisionMask, mask.Decision)
	assert.Equal(t, audit.OutcomeSuccess, mask.Outcome)
	assert.Equal(t, "NationalID", mask.Field)
	assert.Equal(t, "government_id", mask.Class)
	assert.Equal(t, `masked by rule "support-government-id-masked"`, mask.Reason)

	assert.Equal(t, audit.DecisionDeny, deny.Decision)
	assert.Equal(t, audit.OutcomeFailure, deny.Outcome)
	assert.Equal(t, "denied", deny.Error)
	assert.Equal(t, "Notes", deny.Field)
	assert.Contains(t, deny.Reason, "default deny")

	// Several reasons for one decision are listed, in field order; a
	// ciphertext under another key version makes the key ID 0.
	env.events.events = nil
	b := account("acc_2", "rep-7")
	b.Notes = ""
	require.NoError(t, env.p.Seal(ctx, &b))
	_, err := kms.NewAdmin(env.kr).Rotate(ctx, DefaultFieldKeyset)
	require.NoError(t, err)
	b.Name = "Lucy Westenra"
	require.NoError(t, env.p.Seal(ctx, &b))
	require.NoError(t, env.p.Open(as(supportMFA, access.PurposeSupport), &b))
	ev = env.events.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "Name,Email,Phone,NationalID,BirthDate", ev[0].Field)
	assert.Equal(t, `allowed by rule "support-contact" | allowed by rule "support-government-id-mfa"`, ev[0].Reason)
	assert.Zero(t, ev[0].KeyID)

	// Without an access principal, the actor comes from audit.WithActor.
	env.events.events = nil
	b = sealedAccount(t, env, "acc_3", "rep-7")
	require.NoError(t, env.p.Open(audit.WithActor(ctx, "batch-job"), &b))
	ev = env.events.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "batch-job", ev[0].Actor)
	assert.Equal(t, audit.DecisionDeny, ev[0].Decision)
	assert.Equal(t, "no principal", ev[0].Reason)

	// OpenAll: events per record.
	env.events.events = nil
	all := []CRMAccount{sealedAccount(t, env, "acc_4", "rep-7"), sealedAccount(t, env, "acc_5", "rep-8")}
	require.NoError(t, env.p.OpenAll(as(rep7, ""), all))
	ev = env.events.all()
	require.Len(t, ev, 4)
	assert.Equal(t, []string{"acc_4", "acc_4", "acc_5", "acc_5"}, []string{ev[0].SubjectID, ev[1].SubjectID, ev[2].SubjectID, ev[3].SubjectID})
	assert.Equal(t, []string{"allow", "deny", "mask", "deny"}, []string{ev[0].Decision, ev[1].Decision, ev[2].Decision, ev[3].Decision})
}

func TestBreakGlassIsAuditedWithAnAlert(t *testing.T) {
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock)})
	a := sealedAccount(t, env, "acc_1", "rep-7")
	c := access.WithBreakGlass(as(oncall, ""), "INC-4711 account takeover")
	require.NoError(t, env.p.Open(c, &a))
	assert.Equal(t, plainView, viewOf(a))
	ev := env.events.all()
	require.Len(t, ev, 1)
	for _, e := range ev {
		assert.Equal(t, "Name,Email,Phone,NationalID,BirthDate,Notes", e.Field)
		assert.Equal(t, audit.DecisionAllow, e.Decision)
		assert.True(t, strings.HasPrefix(e.Reason, "break-glass"), e.Reason)
		assert.Contains(t, e.Reason, `rule "oncall-break-glass"`)
		assert.Contains(t, e.Reason, `stated reason: "INC-4711 account takeover"`)
	}

	// A Checker of one's own that raises an alert gets the marker too, and
	// a long reason is cut.
	alerting := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Effect: access.Allow, Rule: "mine", Alert: true}, nil
	})
	env2 := newEnv(t, Options{Checker: alerting})
	b := sealedAccount(t, env2, "acc_1", "rep-7")
	require.NoError(t, env2.p.Open(access.WithBreakGlass(ctx, strings.Repeat("é", 300)), &b))
	r := env2.events.all()[0].Reason
	assert.True(t, strings.HasPrefix(r, `break-glass alert: rule "mine"; stated reason: "`), r)
	assert.Less(t, len(r), 320)
}

func TestStrictAccessFailsTheWholeOpen(t *testing.T) {
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock), StrictAccess: true})
	a := sealedAccount(t, env, "acc_1", "rep-7")
	sealed := a

	// Masks are not denials: support without MFA opens a record without
	// notes.
	b := account("acc_2", "rep-7")
	b.Notes = ""
	require.NoError(t, env.p.Seal(ctx, &b))
	require.NoError(t, env.p.Open(as(support, access.PurposeSupport), &b))
	assert.Equal(t, "**************002X", string(b.NationalID))

	for _, tc := range []struct {
		name  string
		ctx   context.Context
		field string
	}{
		{"denied field", as(rep7, ""), "CRMAccount.NationalID"},
		{"no principal", ctx, "CRMAccount.Name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.events.events = nil
			a := sealed
			err := env.p.Open(tc.ctx, &a)
			require.ErrorIs(t, err, access.ErrDenied)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Contains(t, err.Error(), "pii: "+tc.field+": access: ")
			assert.Equal(t, sealed, a, "the record is unchanged")
			ev := env.events.all()
			require.Len(t, ev, 1, "one failure event, nothing revealed")
			assert.Equal(t, audit.OutcomeFailure, ev[0].Outcome)
			assert.Equal(t, audit.DecisionDeny, ev[0].Decision)
			assert.Equal(t, "denied", ev[0].Error)
			assert.NotEmpty(t, ev[0].Reason)
		})
	}
	a = sealed
	err := env.p.Open(ctx, &a)
	assert.ErrorIs(t, err, access.ErrNoPrincipal)
}

func TestCheckerErrorsFailClosed(t *testing.T) {
	broken := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Effect: access.Allow}, errors.New("policy service unavailable")
	})
	env := newEnv(t, Options{Checker: broken})
	a := sealedAccount(t, env, "acc_1", "rep-7")
	sealed := a
	err := env.p.Open(as(rep7, ""), &a)
	require.ErrorIs(t, err, ErrAccessCheck)
	assert.Contains(t, err.Error(), "pii: CRMAccount.Name: access check failed: policy service unavailable")
	assert.Equal(t, sealed, a)
	ev := env.events.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "unavailable", ev[0].Error)

	// ErrNoPrincipal from any Checker is a denial, whatever the Decision
	// says; so is an effect the Checker made up.
	for _, c := range []access.Checker{
		access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
			return access.Decision{Effect: access.Allow}, access.ErrNoPrincipal
		}),
		access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
			return access.Decision{Effect: access.Effect(9)}, nil
		}),
	} {
		env := newEnv(t, Options{Checker: c})
		a := sealedAccount(t, env, "acc_1", "rep-7")
		require.NoError(t, env.p.Open(ctx, &a))
		assert.Equal(t, deniedView, viewOf(a))
	}
}

// TestAuditFailureRevealsNothing: whatever the decision, if the sink
// refuses an event of Open, Open fails and the record keeps its
// ciphertexts.
func TestAuditFailureRevealsNothing(t *testing.T) {
	for _, c := range []context.Context{
		as(supportMFA, access.PurposeSupport),                         // allow
		as(access.Principal{ID: "a", Roles: []string{"auditor"}}, ""), // mask
		ctx, // deny
	} {
		env := newEnv(t, Options{Checker: loadTestPolicy(t, clock)})
		a := sealedAccount(t, env, "acc_1", "rep-7")
		sealed := a
		env.events.fail = errors.New("disk full")
		err := env.p.Open(c, &a)
		require.ErrorIs(t, err, ErrAudit)
		assert.Equal(t, sealed, a)

		all := []CRMAccount{sealedAccount(t, env, "acc_2", "rep-7"), sealedAccount(t, env, "acc_3", "rep-8")}
		before := append([]CRMAccount(nil), all...)
		require.ErrorIs(t, env.p.OpenAll(c, all), ErrAudit)
		assert.Equal(t, before, all)
	}

	// A sink that refuses only some events: still all-or-nothing.
	var n atomic.Int64
	flaky := audit.SinkFunc(func(context.Context, audit.Event) error {
		if n.Add(1) == 2 {
			return errors.New("refused")
		}
		return nil
	})
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock), Audit: flaky})
	a := sealedAccount(t, env, "acc_1", "rep-7")
	sealed := a
	require.ErrorIs(t, env.p.Open(as(supportMFA, access.PurposeSupport), &a), ErrAudit)
	assert.Equal(t, sealed, a)
}

// countingPolicy counts the Check calls that reach the policy engine. It
// embeds the *access.Policy, so that access.Memo still knows which request
// fields the policy reads.
type countingPolicy struct {
	*access.Policy
	calls atomic.Int64
}

func (c *countingPolicy) Check(ctx context.Context, req access.Request) (access.Decision, error) {
	c.calls.Add(1)
	return c.Policy.Check(ctx, req)
}

// Lead is a record with five protected fields and an owner.
type Lead struct {
	ID      string `pii:"id,owner=Owner,tenant=Tenant"`
	Owner   string
	Tenant  string
	Name    string `pii:"name"`
	Email   string `pii:"email"`
	Phone   string `pii:"phone"`
	Address string `pii:"address"`
	Notes   string `pii:"text,class=contact"`
}

func TestDecisionsAreMadeOncePerFieldAndPrincipal(t *testing.T) {
	records := func(env *testEnv, owners int) []Lead {
		cs := make([]Lead, 1000)
		for i := range cs {
			cs[i] = Lead{ID: "c" + strconv.Itoa(i), Owner: "rep-" + strconv.Itoa(i%owners), Tenant: "acme",
				Name: "Lucy Westenra", Email: "lucy@example.com", Phone: "+44 20 7946 8000",
				Address: "1 Crescent, Whitby", Notes: "vip"}
		}
		require.NoError(t, env.p.SealAll(ctx, cs))
		return cs
	}

	// A policy whose rules do not read owners: 1,000 records of 10 owners
	// × 5 fields make 5 Check calls.
	noOwner, err := access.NewPolicy([]access.Rule{
		{Name: "support-contact", Effect: access.Allow, Roles: []string{"support"}, Actions: []access.Action{access.ActionReveal},
			Classes: []string{"contact", "identity"}, Purposes: []access.Purpose{access.PurposeSupport}, SameTenant: false},
		{Name: "marketing-masked", Effect: access.Mask, Roles: []string{"marketing"}, Actions: []access.Action{access.ActionReveal}},
		{Name: "oncall-break-glass", Effect: access.Allow, BreakGlass: true, Roles: []string{"oncall"}, Actions: []access.Action{access.ActionReveal}},
	}, access.PolicyOptions{Roles: []string{"support", "marketing", "oncall"}})
	require.NoError(t, err)
	cp := &countingPolicy{Policy: noOwner}
	env := newEnv(t, Options{Checker: cp})
	cs := records(env, 10)
	require.NoError(t, env.p.OpenAll(as(supportMFA, access.PurposeSupport), cs))
	assert.Equal(t, "Lucy Westenra", cs[999].Name)
	assert.Equal(t, int64(5), cp.calls.Load())
	assert.Len(t, env.events.all(), 1000, "every record's decisions are still audited")

	// With owner-only rules, a decision holds for one owner: 10 owners ×
	// 5 fields.
	cp = &countingPolicy{Policy: loadTestPolicy(t, clock)}
	env = newEnv(t, Options{Checker: cp})
	cs = records(env, 10)
	require.NoError(t, env.p.OpenAll(as(rep7, ""), cs))
	assert.Equal(t, "Lucy Westenra", cs[7].Name)
	assert.Equal(t, "L. W.", cs[8].Name)
	assert.Equal(t, int64(50), cp.calls.Load())

	// Another call asks again: decisions do not outlive a call.
	cp.calls.Store(0)
	one := records(env, 1)[:1]
	require.NoError(t, env.p.OpenAll(as(rep7, ""), one))
	assert.Equal(t, int64(5), cp.calls.Load())
}

// Household reaches one nested type by two paths and a slice.
type HouseholdContact struct {
	Email string `pii:"email"`
}

type Household struct {
	ID      string `pii:"id"`
	Home    HouseholdContact
	Work    HouseholdContact
	Members []HouseholdContact
}

func TestDecisionsAreRememberedPerPathAndWhatTheCheckerReads(t *testing.T) {
	// A Checker that does not say what it reads is asked once per field
	// and record: the subject ID may change its answer.
	var calls atomic.Int64
	own := access.CheckerFunc(func(_ context.Context, req access.Request) (access.Decision, error) {
		calls.Add(1)
		require.NotEmpty(t, req.Resource.SubjectID)
		return access.Decision{Effect: access.Allow, Reason: "mine"}, nil
	})
	env := newEnv(t, Options{Checker: own})
	leads := make([]Lead, 20)
	for i := range leads {
		leads[i] = Lead{ID: "c" + strconv.Itoa(i), Owner: "rep-7", Tenant: "acme", Name: "Lucy Westenra", Email: "lucy@example.com"}
	}
	require.NoError(t, env.p.SealAll(ctx, leads))
	require.NoError(t, env.p.OpenAll(as(supportMFA, access.PurposeSupport), leads))
	assert.Equal(t, int64(40), calls.Load(), "20 records × 2 fields")

	// Within one record, a field reached by two paths is two questions,
	// and the elements of a slice one.
	cp := &countingPolicy{Policy: loadTestPolicy(t, clock)}
	env = newEnv(t, Options{Checker: cp})
	h := Household{ID: "h1", Home: HouseholdContact{"a@example.com"}, Work: HouseholdContact{"b@example.com"},
		Members: []HouseholdContact{{"c@example.com"}, {"d@example.com"}, {"e@example.com"}}}
	want := h
	want.Members = slices.Clone(h.Members)
	require.NoError(t, env.p.Seal(ctx, &h))
	require.NoError(t, env.p.Open(as(supportMFA, access.PurposeSupport), &h))
	assert.Equal(t, want, h)
	assert.Equal(t, int64(3), cp.calls.Load(), "Home.Email, Work.Email, Members[].Email")
	events := env.events.all()
	require.Len(t, events, 1)
	assert.Equal(t, "Home.Email,Work.Email,Members[].Email,Members[].Email,Members[].Email", events[0].Field)
}

func TestOwnerAndTenantReachTheChecker(t *testing.T) {
	type Entity struct {
		ID    int64 `pii:"id,owner=Rep,tenant=Org"`
		Rep   int
		Org   orgID
		Other string
	}
	type Deal struct {
		Entity
		Email string `pii:"email"`
		Lines []struct {
			Name string `pii:"name"`
		}
	}
	var got []access.Resource
	rec := access.CheckerFunc(func(_ context.Context, req access.Request) (access.Decision, error) {
		got = append(got, req.Resource)
		return access.Decision{Effect: access.Allow}, nil
	})
	env := newEnv(t, Options{Checker: rec})
	d := Deal{Entity: Entity{ID: 9, Rep: 42, Org: orgID{"acme"}}, Email: "a@example.com"}
	d.Lines = append(d.Lines, struct {
		Name string `pii:"name"`
	}{"Lucy"})
	require.NoError(t, env.p.Seal(ctx, &d))
	require.NoError(t, env.p.Open(as(rep7, ""), &d))
	require.Len(t, got, 2)
	assert.Equal(t, access.Resource{RecordType: "Deal", Field: "Email", Kind: "email", Class: "contact", OwnerID: "42", SubjectID: "9", Tenant: "org:acme"}, got[0])
	assert.Equal(t, "Lines[].Name", got[1].Field)
	assert.Equal(t, "42", got[1].OwnerID, "nested records belong to the record's owner")
}

type orgID struct{ name string }

func (o orgID) MarshalText() ([]byte, error) { return []byte("org:" + o.name), nil }

func TestOwnerAndTenantTagErrors(t *testing.T) {
	type noField struct {
		ID string `pii:"id,owner=Rep"`
		E  string `pii:"email"`
	}
	type self struct {
		ID string `pii:"id,owner=ID"`
		E  string `pii:"email"`
	}
	type unexported struct {
		ID  string `pii:"id,tenant=org"`
		org string
		E   string `pii:"email"`
	}
	type tagged struct {
		ID  string `pii:"id,owner=Rep"`
		Rep string `pii:"name"`
	}
	type badType struct {
		ID  string `pii:"id,owner=Rep"`
		Rep float64
		E   string `pii:"email"`
	}
	type redacting struct {
		ID  string `pii:"id,tenant=Org"`
		Org String
		E   string `pii:"email"`
	}
	type onLeaf struct {
		ID  string `pii:"id"`
		Rep string
		E   string `pii:"email,owner=Rep"`
	}
	env := newEnv(t, Options{})
	for _, tc := range []struct {
		rec  any
		want string
	}{
		{&noField{ID: "x"}, "owner=Rep names no field"},
		{&self{ID: "x"}, "owner= names the id field itself"},
		{&unexported{ID: "x"}, "tenant=org names an unexported field"},
		{&tagged{ID: "x"}, "owner=Rep names a tagged field"},
		{&badType{ID: "x"}, "owner=Rep has type float64"},
		{&redacting{ID: "x"}, "tenant=Org has type pii.String"},
		{&onLeaf{ID: "x"}, "option owner= is only allowed on the id field"},
	} {
		err := env.p.Open(ctx, tc.rec)
		require.ErrorIs(t, err, ErrInvalidTag, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestDeniedFieldsAreNotDecryptedOrDetokenized(t *testing.T) {
	type Payment struct {
		ID   string `pii:"id"`
		Card string `pii:"card,token=fpe"`
		Note string `pii:"text"`
	}
	tk := &countingTokenizer{}
	deny := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Effect: access.Deny, Reason: "no"}, nil
	})
	env := newEnv(t, Options{Checker: deny, Tokenizers: map[string]Tokenizer{"fpe": tk}})
	p := Payment{ID: "p1", Card: "4111111111111111", Note: "x"}
	require.NoError(t, env.p.Seal(ctx, &p))
	// A ciphertext that would not open here is not even tried.
	q := Payment{ID: "p2", Note: "y"}
	require.NoError(t, env.p.Seal(ctx, &q))
	p.Note = q.Note
	require.NoError(t, env.p.Open(as(rep7, ""), &p))
	assert.Equal(t, Payment{ID: "p1"}, p)
	assert.Zero(t, tk.detok.Load())
	ev := env.events.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "Card,Note", ev[0].Field)
	assert.Equal(t, "token:fpe,"+DefaultFieldKeyset, ev[0].KeyName)

	// Malformed values and plaintext are errors whatever the decision.
	p = Payment{ID: "p1", Note: "plain"}
	assert.ErrorIs(t, env.p.Open(ctx, &p), ErrPlaintext)
	p = Payment{ID: "p1", Note: "pg1.!!"}
	assert.ErrorIs(t, env.p.Open(ctx, &p), ErrInvalidCiphertext)
	p = Payment{Note: q.Note}
	assert.ErrorIs(t, env.p.Open(ctx, &p), ErrMissingID)

	// A masked token is detokenized, then masked.
	mask := access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
		return access.Decision{Effect: access.Mask}, nil
	})
	env = newEnv(t, Options{Checker: mask, Tokenizers: map[string]Tokenizer{"fpe": tk}})
	p = Payment{ID: "p1", Card: "4111111111111111"}
	require.NoError(t, env.p.Seal(ctx, &p))
	require.NoError(t, env.p.Open(ctx, &p))
	assert.Equal(t, "4111 11** **** 1111", p.Card)
}

type countingTokenizer struct {
	fakeTokenizer
	detok atomic.Int64
}

func (c *countingTokenizer) Detokenize(ctx context.Context, domain, tok string) (string, error) {
	c.detok.Add(1)
	return c.fakeTokenizer.Detokenize(ctx, domain, tok)
}

func TestMigrationModePlaintextObeysDecisions(t *testing.T) {
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock), MigrationModeAllowPlaintext: true})
	a := account("acc_1", "rep-7") // never sealed
	require.NoError(t, env.p.Open(as(access.Principal{ID: "rep-8", Roles: []string{"sales_rep"}, Tenant: "acme"}, ""), &a))
	assert.Equal(t, view{Name: "L. W.", Email: "l***@example.com", Phone: "*** **** 8000", NationalID: "<nil>", BirthDate: "masked:1987-**-**"}, viewOf(a))
	a = account("acc_1", "rep-7")
	require.NoError(t, env.p.Open(as(rep7, ""), &a))
	assert.Equal(t, "Lucy Westenra", a.Name)
	assert.Nil(t, a.NationalID)
	for _, e := range env.events.all() {
		assert.Empty(t, e.KeyName, "plaintext is under no key")
	}
}

// TestAccessEventsLeakNothing opens accounts under every kind of decision,
// and with errors, and scans every event and error for the values.
func TestAccessEventsLeakNothing(t *testing.T) {
	env := newEnv(t, Options{Checker: loadTestPolicy(t, clock)})
	strict := newEnv(t, Options{Checker: loadTestPolicy(t, clock), StrictAccess: true})
	var texts []string
	secrets := append([]string(nil), accountSecrets...)
	for _, c := range []context.Context{
		as(rep7, ""), as(support, access.PurposeSupport), as(supportMFA, access.PurposeSupport), ctx,
		access.WithBreakGlass(as(oncall, ""), "INC-1"),
		as(access.Principal{ID: "m", Roles: []string{"marketing"}}, access.PurposeMarketing),
	} {
		for _, e := range []*testEnv{env, strict} {
			a := sealedAccount(t, e, "acc_1", "rep-7")
			for _, s := range []string{a.Name, a.Email, *a.Phone, string(a.NationalID), a.Notes} {
				secrets = append(secrets, s[12:32]) // ciphertexts too
			}
			if err := e.p.Open(c, &a); err != nil {
				texts = append(texts, fmt.Sprintf("%v %+v %#v", err, err, err))
			}
		}
	}
	for _, e := range append(env.events.all(), strict.events.all()...) {
		b, err := e.MarshalJSON()
		require.NoError(t, err)
		texts = append(texts, string(b), fmt.Sprintf("%+v", e))
	}
	require.Greater(t, len(texts), 30)
	for _, tx := range texts {
		for _, s := range secrets {
			assert.NotContains(t, tx, s)
		}
	}
}
