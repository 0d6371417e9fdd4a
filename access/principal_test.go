package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
)

func TestPrincipalRoundTripsThroughTheContext(t *testing.T) {
	ctx := context.Background()
	_, ok := access.PrincipalFrom(ctx)
	assert.False(t, ok)

	p := access.Principal{
		ID: "emp-1", Roles: []string{"support"}, Tenant: "acme",
		Attributes: map[string]string{"region": "eu"},
		Auth:       access.Authentication{Methods: []access.AuthMethod{access.AuthPassword, access.AuthOTP}, Time: time.Unix(1700000000, 0)},
	}
	ctx = access.WithPrincipal(ctx, p)
	got, ok := access.PrincipalFrom(ctx)
	require.True(t, ok)
	assert.Equal(t, p, got)

	// The context holds its own copy.
	p.Roles[0] = "admin"
	p.Attributes["region"] = "us"
	p.Auth.Methods[1] = access.AuthMFA
	got, _ = access.PrincipalFrom(ctx)
	assert.Equal(t, []string{"support"}, got.Roles)
	assert.Equal(t, "eu", got.Attributes["region"])
	assert.Equal(t, access.AuthOTP, got.Auth.Methods[1])
}

func TestPrincipalWithoutIDIsNoPrincipal(t *testing.T) {
	ctx := access.WithPrincipal(context.Background(), access.Principal{Roles: []string{"admin"}})
	_, ok := access.PrincipalFrom(ctx)
	assert.False(t, ok)
	assert.True(t, access.Principal{}.IsZero())
}

func TestPurposeAndBreakGlassRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, ok := access.PurposeFrom(ctx)
	assert.False(t, ok)
	_, ok = access.BreakGlassFrom(ctx)
	assert.False(t, ok)

	ctx = access.WithPurpose(ctx, access.PurposeBilling)
	ctx = access.WithBreakGlass(ctx, "incident 42")
	p, ok := access.PurposeFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, access.PurposeBilling, p)
	r, ok := access.BreakGlassFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, "incident 42", r)

	_, ok = access.PurposeFrom(access.WithPurpose(ctx, ""))
	assert.False(t, ok)
	_, ok = access.BreakGlassFrom(access.WithBreakGlass(ctx, ""))
	assert.False(t, ok)
}

func TestNewRequestTakesItsPartsFromTheContext(t *testing.T) {
	p := access.Principal{ID: "emp-1", Roles: []string{"oncall"}}
	ctx := access.WithBreakGlass(access.WithPurpose(access.WithPrincipal(context.Background(), p), access.PurposeSupport), "pager")
	res := access.Resource{RecordType: "Customer", Field: "Email"}
	req := access.NewRequest(ctx, access.ActionReveal, res)
	assert.Equal(t, access.Request{Principal: p, Action: access.ActionReveal, Resource: res, Purpose: access.PurposeSupport, BreakGlass: "pager"}, req)

	empty := access.NewRequest(context.Background(), access.ActionSearch, res)
	assert.True(t, empty.Principal.IsZero())
	assert.Empty(t, empty.Purpose)
	assert.Empty(t, empty.BreakGlass)
}

func TestMFAMethods(t *testing.T) {
	for m, want := range map[access.AuthMethod]bool{
		access.AuthPassword: false, access.AuthSSO: false, access.AuthAPIKey: false, "magic": false,
		access.AuthMFA: true, access.AuthOTP: true, access.AuthWebAuthn: true,
	} {
		assert.Equal(t, want, m.IsMFA(), string(m))
	}
	assert.False(t, access.Authentication{}.HasMFA())
	assert.True(t, access.Authentication{Methods: []access.AuthMethod{access.AuthPassword, access.AuthWebAuthn}}.HasMFA())
}

func TestHasRole(t *testing.T) {
	p := access.Principal{ID: "x", Roles: []string{"a", "b"}}
	assert.True(t, p.HasRole("b"))
	assert.False(t, p.HasRole("c"))
}
