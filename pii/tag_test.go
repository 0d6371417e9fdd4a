package pii

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTagAcceptsTheGrammar(t *testing.T) {
	for tag, want := range map[string]tagSpec{
		"-":                               {skip: true},
		"id":                              {id: true},
		"id,record=customer.v1":           {id: true, record: "customer.v1"},
		"id,owner=SalesRepID":             {id: true, owner: "SalesRepID"},
		"id,tenant=Org,owner=Rep":         {id: true, owner: "Rep", tenant: "Org"},
		"email":                           {kind: KindEmail, class: ClassContact},
		"email,search=EmailIndex":         {kind: KindEmail, class: ClassContact, search: "EmailIndex"},
		"national_id,class=government_id": {kind: KindNationalID, class: ClassGovernmentID},
		"text,class=health,bind=Notes":    {kind: KindText, class: ClassHealth, bind: "Notes"},
		"card,token=fpe,search=CardIndex": {kind: KindCard, class: ClassFinancial, token: "fpe", search: "CardIndex"},
	} {
		got, err := parseTag(tag)
		require.NoError(t, err, tag)
		assert.Equal(t, want, got, tag)
	}
}

func TestParseTagRejectsMistakes(t *testing.T) {
	for tag, msg := range map[string]string{
		"":                                   "empty kind",
		"emial":                              `unknown kind "emial"`,
		"email,":                             "empty option",
		"email,,class=contact":               "empty option",
		"email,serach=X":                     `unknown option "serach"`,
		"email,search":                       `option "search" needs a value`,
		"email,search=":                      `option "search" needs a value`,
		"email,class=secret":                 `unknown class "secret"`,
		"email,class=contact,class=identity": `option "class" given twice`,
		"email, search=X":                    `unknown option " search"`,
		"email,search=1X":                    "want the name of a sibling field",
		"email,record=x":                     "only allowed on the id field",
		"id,search=X":                        "not allowed on an id field",
		"email,owner=Rep":                    "only allowed on the id field",
		"id,tenant=a.b":                      "want the name of a sibling field",
		"id,owner=Rep,owner=Other":           `option "owner" given twice`,
		"email,bind=a.b":                     "want a Go identifier",
		"email,token=a b":                    "want a tokenizer name",
		"Email":                              `unknown kind "Email"`,
	} {
		_, err := parseTag(tag)
		require.Error(t, err, tag)
		assert.Contains(t, err.Error(), msg, tag)
	}
}

func TestTagSpecStringRoundTrips(t *testing.T) {
	for _, tag := range []string{"-", "id", "id,record=c", "id,record=c,owner=O,tenant=T", "email", "email,class=health,search=I,token=t,bind=B"} {
		s, err := parseTag(tag)
		require.NoError(t, err)
		assert.Equal(t, tag, s.String())
	}
}

// FuzzParseTag: the tag parser never panics, and what it accepts formats
// back to a tag that parses to the same spec.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"-", "id", "id,record=x", "id,owner=Rep,tenant=Org", "email,search=EmailIndex", "card,token=fpe,class=financial", "a,b=c,,", "name,bind=X,bind=Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		s, err := parseTag(tag)
		if err != nil {
			return
		}
		again, err := parseTag(s.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", s.String(), tag, err)
		}
		if again != s {
			t.Fatalf("round trip of %q changed the spec", tag)
		}
	})
}
