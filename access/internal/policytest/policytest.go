// Package policytest holds the requests and expected decisions that the
// tests of package access and of its Cedar adapter run against the golden
// CRM policy (access/testdata/crm.yaml and its Cedar translation), so that
// both engines are held to one table.
package policytest

import (
	"time"

	"github.com/piiguard/piiguard/access"
)

// Now is the fixed time the cases are decided at.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock returns Now.
func Clock() time.Time { return Now }

// Values that must never appear in a decision's reason or an error.
const (
	SubjectID        = "cus-4711-SUBJECT"
	Tenant           = "acme-TENANT"
	OtherTenant      = "globex-TENANT"
	BreakGlassReason = "Customer Jane Roe locked out, ticket 99812"
)

func principal(id string, roles []string, methods []access.AuthMethod, age time.Duration) access.Principal {
	return access.Principal{
		ID:     id,
		Roles:  roles,
		Tenant: Tenant,
		Auth:   access.Authentication{Methods: methods, Time: Now.Add(-age)},
	}
}

var (
	pw       = []access.AuthMethod{access.AuthPassword}
	pwOTP    = []access.AuthMethod{access.AuthPassword, access.AuthOTP}
	pwWebAu  = []access.AuthMethod{access.AuthPassword, access.AuthWebAuthn}
	rs       = func(r ...string) []string { return r }
	minutes  = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	withAttr = func(p access.Principal, k, v string) access.Principal {
		p.Attributes = map[string]string{k: v}
		return p
	}
	withTenant = func(p access.Principal, t string) access.Principal { p.Tenant = t; return p }
)

// Principals used by the cases, by name.
var (
	Rep1            = principal("emp-rep-1", rs("sales_rep"), pw, minutes(120))
	Rep2            = principal("emp-rep-2", rs("sales_rep"), pw, minutes(120))
	SupportFresh    = principal("emp-sup-1", rs("support"), pwOTP, minutes(5))
	SupportStale    = principal("emp-sup-2", rs("support"), pwOTP, minutes(30))
	SupportPassword = principal("emp-sup-3", rs("support"), pw, minutes(1))
	SupportFuture   = principal("emp-sup-4", rs("support"), pwOTP, -minutes(10))
	SupportGlobex   = withTenant(principal("emp-sup-5", rs("support"), pwOTP, minutes(1)), OtherTenant)
	BillingFresh    = principal("emp-bil-1", rs("billing"), pwWebAu, minutes(2))
	BillingStale    = principal("emp-bil-2", rs("billing"), pwWebAu, minutes(10))
	Fraud           = withTenant(principal("emp-fra-1", rs("fraud_analyst"), []access.AuthMethod{access.AuthMFA}, minutes(1)), "")
	MarketingEU     = withAttr(principal("emp-mkt-1", rs("marketing"), pw, minutes(1)), "region", "eu")
	MarketingUS     = withAttr(principal("emp-mkt-2", rs("marketing"), pw, minutes(1)), "region", "us")
	DPO             = principal("emp-dpo-1", rs("dpo"), []access.AuthMethod{access.AuthSSO, access.AuthMFA}, minutes(10))
	SecAdmin        = principal("emp-sec-1", rs("security_admin"), []access.AuthMethod{access.AuthWebAuthn}, minutes(1))
	Oncall          = principal("emp-onc-1", rs("oncall"), pw, minutes(60))
	Service         = principal("svc-etl", rs("service"), []access.AuthMethod{access.AuthAPIKey}, minutes(600))
	Multi           = principal("emp-mul-1", rs("support", "marketing"), pwOTP, minutes(1))
	NoRoles         = principal("emp-x", nil, pw, minutes(1))
	NoAuthTime      = access.Principal{ID: "emp-sup-6", Roles: rs("support"), Tenant: Tenant, Auth: access.Authentication{Methods: pwOTP}}
)

func res(recordType, field, kind, class, owner string) access.Resource {
	return access.Resource{RecordType: recordType, Field: field, Kind: kind, Class: class, OwnerID: owner, SubjectID: SubjectID, Tenant: Tenant}
}

// Resources used by the cases. The owner of customer records is Rep1.
var (
	CustEmail     = res("Customer", "Email", "email", "contact", Rep1.ID)
	CustPhone     = res("Customer", "Phone", "phone", "contact", Rep1.ID)
	CustStreet    = res("Customer", "Address.Street", "address", "contact", Rep1.ID)
	CustCard      = res("Customer", "Card", "card", "financial", Rep1.ID)
	CustNID       = res("Customer", "NationalID", "national_id", "identity", Rep1.ID)
	OrderEmail    = res("Order", "Email", "email", "contact", "")
	InvoiceIBAN   = res("Invoice", "IBAN", "iban", "financial", "")
	InvoiceEmail  = res("Invoice", "BillingEmail", "email", "contact", "")
	EmployeeEmail = res("Employee", "Email", "email", "contact", "")
	Keyset        = access.Resource{}
)

func owner(r access.Resource, id string) access.Resource    { r.OwnerID = id; return r }
func resTenant(r access.Resource, t string) access.Resource { r.Tenant = t; return r }

// Case is one request and the decision the CRM policy must give it.
type Case struct {
	Name  string
	Req   access.Request
	Want  access.Effect
	Rule  string // "" for the default deny
	Alert bool
}

func req(p access.Principal, a access.Action, r access.Resource, purpose access.Purpose) access.Request {
	return access.Request{Principal: p, Action: a, Resource: r, Purpose: purpose}
}

func glass(q access.Request) access.Request { q.BreakGlass = BreakGlassReason; return q }

const (
	reveal = access.ActionReveal
	search = access.ActionSearch
	export = access.ActionExport
	sales  = access.Purpose("sales")
)

// Cases returns the table of requests against the CRM policy.
func Cases() []Case {
	A, M, D := access.Allow, access.Mask, access.Deny
	return []Case{
		{"sales rep reveals own customer", req(Rep1, reveal, CustEmail, sales), A, "sales-rep-own-customers", false},
		{"sales rep sees other rep's customer masked", req(Rep2, reveal, CustEmail, sales), M, "sales-rep-other-customers", false},
		{"sales rep own customer with wrong purpose is masked", req(Rep1, reveal, CustPhone, access.PurposeMarketing), M, "sales-rep-other-customers", false},
		{"sales rep searches own customers", req(Rep1, search, CustEmail, access.PurposeSupport), A, "sales-rep-own-customers", false},
		{"sales rep cannot search other customers", req(Rep2, search, CustEmail, sales), D, "", false},
		{"sales rep other tenant denied", req(Rep1, reveal, resTenant(CustEmail, OtherTenant), sales), D, "", false},
		{"record without owner is masked for sales rep", req(Rep1, reveal, owner(CustEmail, ""), sales), M, "sales-rep-other-customers", false},
		{"sales rep cannot see cards", req(Rep1, reveal, CustCard, sales), D, "", false},
		{"sales rep denied employee records", req(Rep1, reveal, EmployeeEmail, sales), D, "no-employee-records", false},
		{"support with fresh MFA reveals contact", req(SupportFresh, reveal, CustEmail, access.PurposeSupport), A, "support-contact-mfa", false},
		{"support with stale MFA gets mask", req(SupportStale, reveal, CustEmail, access.PurposeSupport), M, "support-contact-masked", false},
		{"support without MFA gets mask", req(SupportPassword, reveal, CustEmail, access.PurposeSupport), M, "support-contact-masked", false},
		{"support with future auth time gets mask", req(SupportFuture, reveal, CustEmail, access.PurposeSupport), M, "support-contact-masked", false},
		{"support without auth time gets mask", req(NoAuthTime, reveal, CustEmail, access.PurposeSupport), M, "support-contact-masked", false},
		{"support with billing purpose denied", req(SupportFresh, reveal, CustEmail, access.PurposeBilling), D, "", false},
		{"support without purpose denied", req(SupportFresh, reveal, CustEmail, ""), D, "", false},
		{"support of another tenant denied", req(SupportGlobex, reveal, CustEmail, access.PurposeSupport), D, "", false},
		{"support sees card masked", req(SupportFresh, reveal, CustCard, access.PurposeSupport), M, "support-contact-masked", false},
		{"support with MFA reveals address", req(SupportFresh, reveal, CustStreet, access.PurposeSupport), A, "support-contact-mfa", false},
		{"support without MFA: first mask rule wins", req(SupportStale, reveal, CustStreet, access.PurposeSupport), M, "support-contact-masked", false},
		{"support searches order email", req(SupportFresh, search, OrderEmail, access.PurposeSupport), A, "support-search", false},
		{"support cannot search cards", req(SupportFresh, search, CustCard, access.PurposeSupport), D, "", false},
		{"support cannot export", req(SupportFresh, export, CustEmail, access.PurposeSupport), D, "", false},
		{"billing with fresh MFA reveals card", req(BillingFresh, reveal, CustCard, access.PurposeBilling), A, "billing-cards", false},
		{"billing with stale MFA sees card masked", req(BillingStale, reveal, CustCard, access.PurposeBilling), M, "billing-cards-masked", false},
		{"billing reveals invoice IBAN", req(BillingFresh, reveal, InvoiceIBAN, access.PurposeBilling), A, "billing-cards", false},
		{"billing reveals invoice contact without MFA", req(BillingStale, reveal, InvoiceEmail, access.PurposeBilling), A, "billing-invoice-contact", false},
		{"billing card for marketing denied by rule", req(BillingFresh, reveal, CustCard, access.PurposeMarketing), D, "no-marketing-identity", false},
		{"billing record without tenant denied", req(BillingFresh, reveal, resTenant(CustCard, ""), access.PurposeBilling), D, "", false},
		{"fraud analyst reveals national ID across tenants", req(Fraud, reveal, CustNID, access.PurposeFraud), A, "fraud-identity", false},
		{"fraud analyst national ID for marketing denied", req(Fraud, reveal, CustNID, access.PurposeMarketing), D, "no-marketing-identity", false},
		{"fraud analyst detokenizes card", req(Fraud, access.ActionDetokenize, CustCard, access.PurposeFraud), A, "fraud-detokenize", false},
		{"marketing EU exports email", req(MarketingEU, export, CustEmail, access.PurposeMarketing), A, "marketing-eu-email-export", false},
		{"marketing US cannot export email", req(MarketingUS, export, CustEmail, access.PurposeMarketing), D, "", false},
		{"marketing cannot export national ID", req(MarketingEU, export, CustNID, access.PurposeMarketing), D, "no-marketing-identity", false},
		{"multi-role principal reveals with support role", req(Multi, reveal, CustEmail, access.PurposeSupport), A, "support-contact-mfa", false},
		{"deny beats mask for multi-role principal", req(Multi, reveal, CustCard, access.PurposeMarketing), D, "no-marketing-identity", false},
		{"DPO exports for a subject request", req(DPO, export, CustNID, access.PurposeSubjectRequest), A, "dpo-subject-requests", false},
		{"DPO erases for legal", req(DPO, access.ActionErase, CustEmail, access.PurposeLegal), A, "dpo-subject-requests", false},
		{"DPO reveal is masked", req(DPO, reveal, CustCard, access.PurposeSubjectRequest), M, "dpo-reveal-masked", false},
		{"DPO export for marketing denied", req(DPO, export, CustNID, access.PurposeMarketing), D, "no-marketing-identity", false},
		{"security admin administers keys", req(SecAdmin, access.ActionKeyAdmin, Keyset, access.PurposeSecurity), A, "security-key-admin", false},
		{"key admin needs security purpose", req(SecAdmin, access.ActionKeyAdmin, Keyset, access.PurposeSupport), D, "", false},
		{"support cannot administer keys", req(SupportFresh, access.ActionKeyAdmin, Keyset, access.PurposeSecurity), D, "", false},
		{"on-call break-glass reveal alerts", glass(req(Oncall, reveal, CustEmail, "")), A, "oncall-break-glass", true},
		{"on-call break-glass reveals identity with alert", glass(req(Oncall, reveal, CustNID, "")), A, "oncall-break-glass", true},
		{"on-call without reason sees mask", req(Oncall, reveal, CustEmail, ""), M, "oncall-masked", false},
		{"break-glass does not beat a deny rule", glass(req(Oncall, reveal, EmployeeEmail, "")), D, "no-employee-records", false},
		{"break-glass needs the same tenant", glass(req(Oncall, reveal, resTenant(CustEmail, OtherTenant), "")), D, "", false},
		{"break-glass is for reveal only", glass(req(Oncall, export, CustEmail, "")), D, "", false},
		{"plain allow beats break-glass, no alert", glass(req(SupportFresh, reveal, CustEmail, access.PurposeSupport)), A, "support-contact-mfa", false},
		{"service tokenizes", req(Service, access.ActionTokenize, CustCard, ""), A, "service-tokenize", false},
		{"service cannot reveal", req(Service, reveal, CustCard, ""), D, "", false},
		{"principal without roles denied", req(NoRoles, reveal, CustEmail, access.PurposeSupport), D, "", false},
	}
}
