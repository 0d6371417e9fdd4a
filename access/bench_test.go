package access_test

import (
	"context"
	"os"
	"testing"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// The golden CRM policy has 20 rules. BenchmarkCheckerFuncBaseline is the
// floor any Checker call costs (an interface call that allocates nothing),
// so the Policy's overhead reads as a ratio of it.

func benchCheck(b *testing.B, c access.Checker, req access.Request) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := c.Check(ctx, req)
		if err != nil || d.Reason == "" {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkCheckerFuncBaseline(b *testing.B) {
	benchCheck(b, access.InsecureAllowAll, access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail})
}

func BenchmarkPolicyCheck20Rules(b *testing.B) {
	p := loadCRM(b, access.FormatYAML)
	for _, bc := range []struct {
		name string
		req  access.Request
	}{
		{"owner-only-allow", access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: "sales"}},
		{"mfa-allow", access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustStreet, Purpose: access.PurposeSupport}},
		{"mask", access.Request{Principal: policytest.SupportStale, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: access.PurposeSupport}},
		{"deny-rule", access.Request{Principal: policytest.Multi, Action: access.ActionReveal, Resource: policytest.CustCard, Purpose: access.PurposeMarketing}},
		{"default-deny", access.Request{Principal: policytest.Service, Action: access.ActionReveal, Resource: policytest.CustCard}},
		{"break-glass", access.Request{Principal: policytest.Oncall, Action: access.ActionReveal, Resource: policytest.CustEmail, BreakGlass: "incident"}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchCheck(b, p, bc.req) })
	}
}

// BenchmarkPreparedCheckResource is BenchmarkPolicyCheck20Rules through a
// Prepared: the principal's part of the work is done once, ahead, as
// pii.Open does once per call.
func BenchmarkPreparedCheckResource(b *testing.B) {
	p := loadCRM(b, access.FormatYAML)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		req  access.Request
	}{
		{"owner-only-allow", access.Request{Principal: policytest.Rep1, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: "sales"}},
		{"mfa-allow", access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustStreet, Purpose: access.PurposeSupport}},
		{"mask", access.Request{Principal: policytest.SupportStale, Action: access.ActionReveal, Resource: policytest.CustEmail, Purpose: access.PurposeSupport}},
		{"default-deny", access.Request{Principal: policytest.Service, Action: access.ActionReveal, Resource: policytest.CustCard}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pr := access.Prepare(p, bc.req)
			b.ReportAllocs()
			for b.Loop() {
				d, err := pr.CheckResource(ctx, bc.req.Resource)
				if err != nil || d.Reason == "" {
					b.Fatal(d, err)
				}
			}
		})
	}
	b.Run("prepare", func(b *testing.B) {
		var pr access.Prepared
		req := access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Purpose: access.PurposeSupport}
		b.ReportAllocs()
		for b.Loop() {
			pr.Reset(p, req)
		}
	})
}

func BenchmarkMemoHit(b *testing.B) {
	m := access.NewMemo(loadCRM(b, access.FormatYAML))
	benchCheck(b, m, access.Request{Principal: policytest.SupportFresh, Action: access.ActionReveal, Resource: policytest.CustStreet, Purpose: access.PurposeSupport})
}

func BenchmarkParsePolicyYAML(b *testing.B) {
	data, err := os.ReadFile("testdata/crm.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := access.ParsePolicyYAML(data, access.PolicyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePolicyJSON(b *testing.B) {
	data, err := os.ReadFile("testdata/crm.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := access.ParsePolicyJSON(data, access.PolicyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
