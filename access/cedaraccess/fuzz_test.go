package cedaraccess_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/cedaraccess"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// FuzzParse holds Parse to its contract: errors are *access.PolicyError
// values wrapping access.ErrInvalidPolicy, and a Checker it returns decides
// without panicking.
func FuzzParse(f *testing.F) {
	src, err := os.ReadFile("testdata/crm.cedar")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add([]byte(`@id("a") @break_glass permit (principal, action, resource);`))
	f.Add([]byte(`@effect("mask") permit (principal in Role::"r", action, resource) when { resource.field like "A*" };`))
	f.Add([]byte(`forbid (principal, action, resource) when { context.auth_age <= duration("1m") };`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cedaraccess.Parse("f.cedar", data, cedaraccess.Options{Now: policytest.Clock})
		if err != nil {
			var pe *access.PolicyError
			if !errors.Is(err, access.ErrInvalidPolicy) || !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PolicyError wrapping ErrInvalidPolicy", err)
			}
			return
		}
		for _, tc := range policytest.Cases()[:12] {
			d, err := c.Check(context.Background(), tc.Req)
			if err != nil && d.Effect != access.Deny {
				t.Fatalf("error %v with %v", err, d.Effect)
			}
		}
	})
}
