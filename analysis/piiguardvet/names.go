package piiguardvet

import (
	"slices"
	"strings"
	"unicode"
)

// piiNames are the field names, as words, that say personal data, with
// the pii kind to tag them with. A name matches when it ends with one of
// them: "WorkEmail" and "EmailAddress" match, "EmailIndex" and
// "EmailVerified" do not. A bare "Name" does not match: in a record it is
// as often a product's or a plan's.
var piiNames = []struct {
	words []string
	kind  string
}{
	{[]string{"email"}, "email"},
	{[]string{"e", "mail"}, "email"},
	{[]string{"email", "address"}, "email"},
	{[]string{"phone"}, "phone"},
	{[]string{"phone", "number"}, "phone"},
	{[]string{"mobile"}, "phone"},
	{[]string{"mobile", "number"}, "phone"},
	{[]string{"telephone"}, "phone"},
	{[]string{"ssn"}, "national_id"},
	{[]string{"id", "card"}, "national_id"},
	{[]string{"id", "card", "number"}, "national_id"},
	{[]string{"national", "id"}, "national_id"},
	{[]string{"national", "number"}, "national_id"},
	{[]string{"resident", "id"}, "national_id"},
	{[]string{"tax", "id"}, "national_id"},
	{[]string{"nino"}, "national_id"},
	{[]string{"my", "number"}, "national_id"},
	{[]string{"passport"}, "national_id"},
	{[]string{"passport", "number"}, "national_id"},
	{[]string{"passport", "no"}, "national_id"},
	{[]string{"driver", "license"}, "national_id"},
	{[]string{"driving", "licence"}, "national_id"},
	{[]string{"dob"}, "dob"},
	{[]string{"birth", "date"}, "dob"},
	{[]string{"date", "of", "birth"}, "dob"},
	{[]string{"birthday"}, "dob"},
	{[]string{"iban"}, "bank_account"},
	{[]string{"bank", "account"}, "bank_account"},
	{[]string{"account", "number"}, "bank_account"},
	{[]string{"card", "number"}, "card"},
	{[]string{"credit", "card"}, "card"},
	{[]string{"pan"}, "card"},
	{[]string{"ip"}, "ip"},
	{[]string{"ip", "address"}, "ip"},
	{[]string{"street"}, "street"},
	{[]string{"street", "address"}, "street"},
	{[]string{"home", "address"}, "address"},
	{[]string{"postal", "address"}, "address"},
	{[]string{"postcode"}, "postcode"},
	{[]string{"postal", "code"}, "postcode"},
	{[]string{"zip", "code"}, "postcode"},
	{[]string{"first", "name"}, "name"},
	{[]string{"last", "name"}, "name"},
	{[]string{"full", "name"}, "name"},
	{[]string{"given", "name"}, "name"},
	{[]string{"family", "name"}, "name"},
	{[]string{"surname"}, "name"},
}

// piiKindOfName returns the pii kind a field name says, and false if it
// says none.
func piiKindOfName(name string) (string, bool) {
	words := splitWords(name)
	best, kind := 0, ""
	for _, n := range piiNames {
		if len(n.words) > best && len(words) >= len(n.words) && slices.Equal(words[len(words)-len(n.words):], n.words) {
			best, kind = len(n.words), n.kind
		}
	}
	return kind, best > 0
}

// splitWords splits a Go identifier into lower-case words at case changes
// and underscores, keeping initialisms whole: "IDCard" is id, card;
// "ClientIP" client, ip; "date_of_birth" date, of, birth.
func splitWords(name string) []string {
	var words []string
	rs := []rune(name)
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = end
	}
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '_' || unicode.IsDigit(r):
			flush(i)
			start = i + 1
		case i > start && unicode.IsUpper(r) &&
			(unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush(i)
		}
	}
	flush(len(rs))
	return words
}
