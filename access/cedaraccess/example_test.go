package cedaraccess_test

import (
	"context"
	"fmt"
	"time"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/cedaraccess"
)

// A Cedar policy set behind access.Checker: sales reps see their own
// customers in the clear and other customers masked; card numbers need MFA
// in the last five minutes.
func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	checker, err := cedaraccess.Parse("crm.cedar", []byte(`
@id("own-customers")
permit (principal in Role::"sales_rep", action == Action::"reveal", resource)
when { resource.record_type == "Customer" && resource has owner && resource.owner == principal };

@id("other-customers")
@effect("mask")
permit (principal in Role::"sales_rep", action == Action::"reveal", resource)
when { resource.record_type == "Customer" };

@id("cards-need-mfa")
forbid (principal, action, resource)
when { resource.kind == "card" && !(principal.mfa && context has auth_age && context.auth_age <= duration("5m")) };
`), cedaraccess.Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	var c access.Checker = checker

	rep := access.Principal{ID: "rep-alice", Roles: []string{"sales_rep"},
		Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthPassword}, Time: now.Add(-time.Hour)}}
	for _, res := range []access.Resource{
		{RecordType: "Customer", Field: "Email", Kind: "email", OwnerID: "rep-alice"},
		{RecordType: "Customer", Field: "Email", Kind: "email", OwnerID: "rep-bob"},
		{RecordType: "Customer", Field: "Card", Kind: "card", OwnerID: "rep-alice"},
	} {
		d, _ := c.Check(context.Background(), access.Request{Principal: rep, Action: access.ActionReveal, Resource: res})
		fmt.Printf("%s of %s's customer: %s (%s)\n", res.Field, res.OwnerID, d.Effect, d.Rule)
	}
	// Output:
	// Email of rep-alice's customer: allow (own-customers)
	// Email of rep-bob's customer: mask (other-customers)
	// Card of rep-alice's customer: deny (cards-need-mfa)
}
