package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

// found returns "kind:value" for each span of s.
func found(d *Detector, s string) []string {
	var out []string
	for _, sp := range d.FindString(s) {
		out = append(out, sp.Kind.String()+":"+s[sp.Start:sp.End])
	}
	return out
}

func TestRecognizersFindValidValues(t *testing.T) {
	t.Parallel()
	d := Default()
	for _, tc := range []struct{ text, want string }{
		{"mail alice.smith+news@example.co.uk now", "email:alice.smith+news@example.co.uk"},
		{"手机13812345678", "phone:13812345678"},
		{"tel +44 20 7946 0018", "phone:+44 20 7946 0018"},
		{"call (212) 736-8421 today", "phone:(212) 736-8421"},
		{"手机：１３８１２３４５６７８", "phone:１３８１２３４５６７８"},
		{"card 4111 1111 1111 1111 exp 12/29", "card:4111 1111 1111 1111"},
		{"amex 3782-822463-10005", "card:3782-822463-10005"},
		{"身份证号：11010519491231002X", "cnid:11010519491231002X"},
		{"身份证 11010519491231002x", "cnid:11010519491231002x"},
		{"IBAN GB82 WEST 1234 5698 7654 32.", "iban:GB82 WEST 1234 5698 7654 32"},
		{"from 203.0.113.7:443", "ip:203.0.113.7"},
		{"from [2001:db8::1]:443", "ip:2001:db8::1"},
		{"SSN 123-45-6789", "ssn:123-45-6789"},
		{"ssn=123456789", "ssn:123456789"},
		{"NINO AB 12 34 56 C", "nino:AB 12 34 56 C"},
		{"マイナンバー：1234 5678 9018", "mynumber:1234 5678 9018"},
		{"DOB: 1985-03-12", "dob:1985-03-12"},
		{`"birth_date":"1985-03-12T00:00:00Z"`, "dob:1985-03-12"},
		{"出生日期：1985年3月12日", "dob:1985年3月12日"},
		{"born March 12, 1985", "dob:March 12, 1985"},
		{"护照号码：E12345678", "passport:E12345678"},
	} {
		assert.Equal(t, []string{tc.want}, found(d, tc.text), "%q", tc.text)
	}
}

func TestRecognizersRejectLookalikes(t *testing.T) {
	t.Parallel()
	d := Default()
	for _, text := range []string{
		"order #4111111111111111",                // Luhn-valid, but an order number
		"ref 4111111111111112",                   // fails the Luhn check
		"id 110105194912310021",                  // wrong GB 11643 check character
		"SSN 666-12-3456",                        // area 666
		"SSN 912-12-3456",                        // area 9xx
		"SSN 123-00-4567",                        // group 00
		"SSN 123-45-0000",                        // serial 0000
		"NINO QQ123456C",                         // Q is never a first letter
		"NINO GB123456A",                         // GB is not issued
		"IBAN GB83 WEST 1234 5698 7654 32",       // mod 97
		"1985-03-12",                             // a date without "born"
		"birthday party at 2024-05-01T18:30:00Z", // a date-time that is not midnight
		"E12345678",                              // a passport shape without "passport"
		"version 10.2.0.1",                       // a version, not an address
		"v1.2.3.4 and 1.2.3.4.5",                 // dotted runs
		"listening on 127.0.0.1:8080",            // loopback
		"at 12:34:56 from 00:1a:2b:3c:4d:5e",
		"icon@2x.png lodash@4.17.21 @alice",
		"request 550e8400-e29b-41d4-a716-446655440000",
		"commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
		"2024-05-01T12:34:56.789Z 1714567890123",
		"My Number 1234 5678 9012", // wrong check digit
	} {
		assert.Empty(t, found(d, text), "%q", text)
	}
}

func TestContextRaisesAndLowers(t *testing.T) {
	t.Parallel()
	d := Default()
	// a bare 12-digit number passing the My Number check: only context
	// says what it is
	assert.Empty(t, found(d, "ref 123456789018"))
	assert.Equal(t, []string{"mynumber:123456789018"}, found(d, "個人番号 123456789018"))
	// a 10-digit US number without separators needs a word
	assert.Empty(t, found(d, "id 2127368421"))
	assert.Equal(t, []string{"phone:2127368421"}, found(d, "phone 2127368421"))
	// the nearest word decides
	assert.Equal(t, []string{"card:4111111111111111"}, found(d, "order 77: card 4111111111111111"))
	assert.Empty(t, found(d, "卡号 in order 4111111111111111"))
	assert.Empty(t, found(d, "快递单号：13812345678"))
	// a field name is context
	assert.Equal(t, []string{"dob:1985-03-12"}, func() []string {
		var out []string
		for _, sp := range d.FindField("birth_date", "1985-03-12") {
			out = append(out, sp.Kind.String()+":"+"1985-03-12"[sp.Start:sp.End])
		}
		return out
	}())
	// the header of a CSV column is context for the row below it
	assert.Equal(t, []string{"passport:E12345678"}, found(d, "id,passport_no\n7,E12345678"))
}

func TestOptions(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Kinds: []Kind{Email}})
	require.NoError(t, err)
	assert.Equal(t, []string{"email:a@b.io"}, found(d, "a@b.io 13812345678"))

	d, err = New(Options{PhoneRegions: []string{"JP"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"phone:090-1234-5678"}, found(d, "tel 090-1234-5678"))
	assert.Empty(t, found(d, "13812345678"))

	_, err = New(Options{PhoneRegions: []string{"XX"}})
	assert.ErrorIs(t, err, ErrUnknownRegion)
	_, err = New(Options{Kinds: []Kind{99}})
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = New(Options{MinConfidence: 2})
	assert.Error(t, err)

	d, err = New(Options{MinConfidence: 0.3})
	require.NoError(t, err)
	assert.Equal(t, []string{"mynumber:123456789018"}, found(d, "value 123456789018"))
}

func TestKindNames(t *testing.T) {
	t.Parallel()
	for _, k := range Kinds() {
		got, err := ParseKind(strings.ToUpper(k.String()))
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	assert.Len(t, Kinds(), len(corpus.Kinds))
	_, err := ParseKind("name")
	assert.ErrorIs(t, err, ErrUnknownKind)
	assert.Equal(t, "Kind(0)", Kind(0).String())
}

// A span says where a value is, never what it is.
func TestSpanStringHoldsNoValue(t *testing.T) {
	t.Parallel()
	text := "card 4111 1111 1111 1111, mail bob@example.com"
	for _, sp := range Default().FindString(text) {
		s := sp.String()
		assert.NotContains(t, s, "1111")
		assert.NotContains(t, s, "bob")
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", sp, sp, sp), "example.com")
	}
}

// The phone recognizer matches libphonenumber's compiled patterns itself;
// it must agree with phonenumbers.IsValidNumber.
func TestPhoneValidationAgreesWithLibphonenumber(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	tabs := phoneTables()
	disagree := 0
	const n = 3000
	for i := range n {
		cc := []int{1, 44, 86, 81, 33, 49, 65, 852, 91, 7, 39, 61}[i%12]
		nsn := fmt.Sprintf("%d", 1+r.IntN(9))
		for range 5 + r.IntN(7) {
			nsn += fmt.Sprintf("%d", r.IntN(10))
		}
		want := false
		if pn, err := phonenumbers.Parse(fmt.Sprintf("+%d%s", cc, nsn), ""); err == nil {
			want = phonenumbers.IsValidNumber(pn)
		}
		got := false
		plans := tabs.byCC[cc]
		for _, p := range plans {
			if ld := p.plan().leading; len(plans) > 1 && ld != nil && !ld.Match([]byte(nsn)) {
				continue
			}
			if ok, _ := p.valid([]byte(nsn)); ok {
				got = true
				break
			}
		}
		if got != want {
			disagree++
			t.Logf("+%d %s: ours %v, IsValidNumber %v", cc, nsn, got, want)
		}
	}
	assert.LessOrEqual(t, disagree, n/100, "more than 1%% disagreement")
}
