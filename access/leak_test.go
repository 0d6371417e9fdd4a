package access_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/access/internal/policytest"
)

// TestNoRequestValueLeaksIntoDecisionsOrErrors runs every golden request,
// and broken variants of them, through the Policy and a Memo, and scans
// every reason, rule name and error for the identifiers and free text the
// requests carried.
func TestNoRequestValueLeaksIntoDecisionsOrErrors(t *testing.T) {
	p := loadCRM(t, access.FormatYAML)
	checkers := map[string]access.Checker{"policy": p, "memo": access.NewMemo(p)}
	var reqs []access.Request
	for _, c := range policytest.Cases() {
		reqs = append(reqs, c.Req)
		broken := c.Req
		broken.Action = "steal"
		reqs = append(reqs, broken)
		anon := c.Req
		anon.Principal.ID = ""
		reqs = append(reqs, anon)
		glass := c.Req
		glass.BreakGlass = policytest.BreakGlassReason
		reqs = append(reqs, glass)
	}
	for name, c := range checkers {
		for _, req := range reqs {
			d, err := c.Check(context.Background(), req)
			texts := []string{d.Reason, d.Rule}
			if err != nil {
				texts = append(texts, err.Error())
			}
			if e := d.Err(); e != nil {
				texts = append(texts, e.Error())
			}
			for _, text := range texts {
				assertNoRequestValues(t, name, text, req)
			}
		}
	}
}

func assertNoRequestValues(t *testing.T, checker, text string, req access.Request) {
	t.Helper()
	values := []string{
		req.Principal.ID, req.Principal.Tenant, req.Resource.OwnerID, req.Resource.SubjectID,
		req.Resource.Tenant, req.BreakGlass, policytest.SubjectID, policytest.Tenant, policytest.OtherTenant,
		policytest.BreakGlassReason,
	}
	for _, v := range req.Principal.Attributes {
		values = append(values, v)
	}
	for _, v := range values {
		if len(v) < 3 {
			continue // too short to be recognisable ("eu")
		}
		assert.NotContains(t, text, v, "%s leaked a request value", checker)
	}
}
