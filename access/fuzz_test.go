package access_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// checkParsed holds a parser to its contract: an error is a *PolicyError
// wrapping ErrInvalidPolicy; a policy decides without panicking and its
// rules compile again on their own.
func checkParsed(t *testing.T, p *access.Policy, err error) {
	if err != nil {
		var pe *access.PolicyError
		if !errors.Is(err, access.ErrInvalidPolicy) || !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *PolicyError wrapping ErrInvalidPolicy", err)
		}
		if pe.Line < 0 {
			t.Fatalf("negative line in %v", err)
		}
		return
	}
	for _, c := range policytest.Cases()[:12] {
		d, err := p.Check(context.Background(), c.Req)
		if err != nil || d.Effect > access.Allow {
			t.Fatalf("Check: %+v, %v", d, err)
		}
	}
	rules := p.Rules()
	var purposes []access.Purpose
	for _, r := range rules {
		purposes = append(purposes, r.Purposes...)
	}
	if _, err := access.NewPolicy(rules, access.PolicyOptions{Purposes: purposes}); err != nil {
		t.Fatalf("the parsed rules do not compile again: %v", err)
	}
}

func addSeeds(f *testing.F, golden string, docs ...string) {
	data, err := os.ReadFile(golden)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, d := range docs {
		f.Add([]byte(d))
	}
}

func FuzzParsePolicyYAML(f *testing.F) {
	addSeeds(f, "testdata/crm.yaml", validYAML, validJSON, "", "version: 1\nroles: [a]\nrules:\n  - {name: r, effect: mask, roles: ['*'], actions: ['*'], fields: [a*]}\n",
		"version: 1\nroles: &a [x]\nrules: *a\n", "- [\n", "version: 1\nroles: [a]\nrules:\n  - name: r\n    mfa_within: 1h\n    attributes: {a: b}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := access.ParsePolicyYAML(data, access.PolicyOptions{Now: policytest.Clock})
		checkParsed(t, p, err)
	})
}

func FuzzParsePolicyJSON(f *testing.F) {
	addSeeds(f, "testdata/crm.json", validJSON, "", "{", "[]", `{"version":1,"roles":["a"],"rules":[{"name":"r","effect":"allow","roles":["a"],"actions":["*"],"break_glass":true}]}`,
		`{"version":1,"roles":["a"],"rules":[{"name":"r","mfa_within":"5m","attributes":{"k":"v"},"owner_only":null}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := access.ParsePolicyJSON(data, access.PolicyOptions{Now: policytest.Clock})
		checkParsed(t, p, err)
	})
}

// FuzzPolicyCheck asks the golden policy arbitrary questions: it must never
// panic, must deny whenever it returns an error, and a Prepared must decide
// as Check does.
func FuzzPolicyCheck(f *testing.F) {
	p, err := access.LoadPolicyFile("testdata/crm.yaml", access.PolicyOptions{Now: policytest.Clock})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("emp-1", "support", "acme", "reveal", "Customer", "Email", "email", "contact", "emp-1", "acme", "support", "", int64(60), true)
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", int64(0), false)
	f.Add("x", "oncall", "t", "reveal", "Customer", "Address.Street", "address", "contact", "", "t", "", "why", int64(-600), false)
	f.Fuzz(func(t *testing.T, id, role, tenant, action, recordType, field, kind, class, owner, resTenant, purpose, glass string, ageSeconds int64, mfa bool) {
		methods := []access.AuthMethod{access.AuthPassword}
		if mfa {
			methods = append(methods, access.AuthOTP)
		}
		req := access.Request{
			Principal:  access.Principal{ID: id, Roles: []string{role}, Tenant: tenant, Auth: access.Authentication{Methods: methods, Time: policytest.Now.Add(-time.Duration(ageSeconds) * time.Second)}},
			Action:     access.Action(action),
			Resource:   access.Resource{RecordType: recordType, Field: field, Kind: kind, Class: class, OwnerID: owner, Tenant: resTenant},
			Purpose:    access.Purpose(purpose),
			BreakGlass: glass,
		}
		d, err := p.Check(context.Background(), req)
		if err != nil && d.Effect != access.Deny {
			t.Fatalf("error %v with effect %v", err, d.Effect)
		}
		if pd, perr := access.Prepare(p, req).CheckResource(context.Background(), req.Resource); pd != d || perr != err {
			t.Fatalf("Prepared decided %+v, %v; Check %+v, %v", pd, perr, d, err)
		}
		if d.Reason == "" {
			t.Fatal("empty reason")
		}
		if d.Alert && (glass == "" || d.Effect != access.Allow) {
			t.Fatalf("alert on %+v", d)
		}
	})
}
