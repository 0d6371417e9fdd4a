package pii_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/pii"
)

type Customer struct {
	ID         string `pii:"id"`
	Name       string `pii:"name"`
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string
	Phone      string `pii:"phone"`
	NationalID string `pii:"national_id,class=government_id"`
	City       string
}

// newKeyring returns an in-memory key ring with the two keysets a
// Protector uses by default. Real applications use a root key in a KMS and
// a persistent store.
func newKeyring() *kms.Keyring {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		panic(err)
	}
	if err := kms.NewAdmin(kr).Ensure(ctx, pii.DefaultFieldKeyset, kms.PurposeAEAD); err != nil {
		panic(err)
	}
	if err := kms.NewAdmin(kr).Ensure(ctx, pii.DefaultSearchKeyset, kms.PurposePRF); err != nil {
		panic(err)
	}
	return kr
}

func Example() {
	ctx := context.Background()
	// Access control is off in this example, deliberately: see
	// ExampleProtector_Open_accessPolicy for a Protector with a policy.
	p, err := pii.New(newKeyring(), pii.Options{Checker: access.InsecureAllowAll})
	if err != nil {
		panic(err)
	}
	c := Customer{ID: "cus_1001", Name: "Lucy Westenra", Email: "lucy@example.com",
		Phone: "+44 20 7946 8000", NationalID: "11010519491231002X", City: "Whitby"}

	if err := p.Seal(ctx, &c); err != nil {
		panic(err)
	}
	fmt.Println("sealed:", strings.HasPrefix(c.Name, "pg1."), strings.HasPrefix(c.EmailIndex, "bi1."), c.City)

	if err := p.Open(ctx, &c); err != nil {
		panic(err)
	}
	fmt.Println("opened:", c.Name, c.Email)
	// Output:
	// sealed: true true Whitby
	// opened: Lucy Westenra lucy@example.com
}

func ExampleProtector_Open_copiedCiphertext() {
	ctx := context.Background()
	p, _ := pii.New(newKeyring(), pii.Options{Checker: access.InsecureAllowAll})
	a := Customer{ID: "cus_1", Name: "Lucy Westenra", Phone: "+44 20 7946 8000"}
	b := Customer{ID: "cus_2", Name: "Mina Harker"}
	_ = p.Seal(ctx, &a)
	_ = p.Seal(ctx, &b)

	a.Name = b.Name // a ciphertext copied from another row
	err := p.Open(ctx, &a)
	fmt.Println(err)
	var fe *pii.FieldError
	fmt.Println(errors.Is(err, pii.ErrInvalidCiphertext), errors.As(err, &fe) && fe.Path == "Name")
	fmt.Println(strings.HasPrefix(a.Phone, "pg1.")) // nothing was opened
	// Output:
	// pii: Customer.Name: invalid ciphertext: it does not open as this record's type, field and ID (copied from elsewhere, or tampered with)
	// true true
	// true
}

func ExampleProtector_SearchTerms() {
	ctx := context.Background()
	p, _ := pii.New(newKeyring(), pii.Options{Checker: access.InsecureAllowAll})
	stored := []Customer{
		{ID: "cus_1", Email: "lucy@example.com"},
		{ID: "cus_2", Email: "mina@example.com"},
	}
	_ = p.SealAll(ctx, stored)

	// Find rows by e-mail without decrypting: the term is normalised the
	// way the index was.
	terms, _ := p.SearchTerms(ctx, Customer{}, "Email", "  LUCY@Example.com")
	for _, row := range stored {
		for _, t := range terms {
			if row.EmailIndex == t {
				_ = p.Open(ctx, &row)
				// Indexes are truncated: confirm the match after opening.
				fmt.Println("found", row.ID, p.Equal(pii.KindEmail, row.Email, "lucy@example.com"))
			}
		}
	}
	// Output:
	// found cus_1 true
}

func ExampleRedact() {
	c := Customer{ID: "cus_1001", Name: "Lucy Westenra", Email: "lucy@example.com",
		Phone: "+44 20 7946 8000", NationalID: "11010519491231002X", City: "Whitby"}
	if err := pii.Redact(&c); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", c)
	// Output:
	// {ID:cus_1001 Name:L. W. Email:l***@example.com EmailIndex: Phone:*** **** 8000 NationalID:**************002X City:Whitby}
}

func ExampleMask() {
	fmt.Println(pii.Mask(pii.KindEmail, "lucy@example.com"))
	fmt.Println(pii.Mask(pii.KindPhone, "+44 20 7946 8000"))
	fmt.Println(pii.Mask(pii.KindCard, "4111 1111 1111 1111"))
	fmt.Println(pii.Mask(pii.KindName, "Lucy Westenra"))
	fmt.Println(pii.Mask(pii.KindNationalID, "AB12345678CD002X"))
	fmt.Println(pii.Mask(pii.KindAddress, "221B Baker Street, London NW1 6XE"))
	fmt.Println(pii.Mask(pii.KindDateOfBirth, "1987-04-12"))
	// Output:
	// l***@example.com
	// *** **** 8000
	// 4111 11** **** 1111
	// L. W.
	// ************002X
	// ***, London
	// 1987-**-**
}

func ExampleString() {
	type Profile struct {
		ID    string
		Email pii.String
	}
	p := Profile{ID: "p1", Email: "lucy@example.com"}

	fmt.Printf("%v %+v %s %q\n", p, p, p.Email, p.Email)
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("signup", "email", p.Email)
	_, err := p.Email.Value() // database/sql refuses plaintext
	fmt.Println(err)
	fmt.Println(p.Email.Reveal()) // the explicit way out
	// Output:
	// {p1 [redacted]} {ID:p1 Email:[redacted]} [redacted] "[redacted]"
	// {"ID":"p1","Email":"[redacted]"}
	// level=INFO msg=signup email=[redacted]
	// pii: plaintext where a protected value belongs: refusing to write an unsealed pii.String to the database; Seal the record first
	// lucy@example.com
}

func ExampleValue() {
	type Patient struct {
		ID        string               `pii:"id"`
		BirthDate pii.Value[time.Time] `pii:"dob"`
	}
	ctx := context.Background()
	p, _ := pii.New(newKeyring(), pii.Options{Checker: access.InsecureAllowAll})
	r := Patient{ID: "pat_7", BirthDate: pii.ValueOf(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC))}

	_ = p.Seal(ctx, &r)
	fmt.Println(r.BirthDate, r.BirthDate.IsSealed())
	_, err := r.BirthDate.Reveal()
	fmt.Println(err)

	_ = p.Open(ctx, &r)
	dob, _ := r.BirthDate.Reveal()
	fmt.Println(dob.Format(time.DateOnly))
	// Output:
	// [redacted] true
	// pii: value is sealed: Open the record before revealing the value
	// 1987-04-12
}

func ExampleNew_options() {
	kr := newKeyring()
	p, err := pii.New(kr, pii.Options{
		Checker:            access.InsecureAllowAll, // no access control: deliberate, for this example only
		IndexBits:          20,                      // about a million customers: √N < 2^bits < N/2
		DefaultCountryCode: "44",
	})
	fmt.Println(p, err)
	// Output:
	// pii.Protector(fields=pii-fields, search=pii-search, bits=20) <nil>
}

// A sales rep sees their own accounts, a masked form of their colleagues'
// accounts, and no one sees anything without a principal.
func ExampleProtector_Open_accessPolicy() {
	type Account struct {
		ID         string `pii:"id,owner=SalesRepID"`
		SalesRepID string
		Email      string `pii:"email"`
		NationalID string `pii:"national_id"`
	}
	policy, err := access.ParsePolicyYAML([]byte(`
version: 1
roles: [sales_rep]
rules:
  - name: own-accounts
    effect: allow
    roles: [sales_rep]
    actions: [reveal]
    classes: [contact]
    owner_only: true
  - name: other-accounts
    effect: mask
    roles: [sales_rep]
    actions: [reveal]
    classes: [contact]
`), access.PolicyOptions{})
	if err != nil {
		panic(err)
	}
	events := audit.SinkFunc(func(_ context.Context, e audit.Event) error {
		fmt.Printf("  audit: %s %s %s of %s: %s (%s)\n", e.Actor, e.Decision, e.Field, e.SubjectID, e.Outcome, e.Reason)
		return nil
	})
	p, err := pii.New(newKeyring(), pii.Options{Checker: policy, Audit: events})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	sealed := Account{ID: "acc_1", SalesRepID: "rep-7", Email: "lucy@example.com", NationalID: "11010519491231002X"}
	if err := p.Seal(ctx, &sealed); err != nil {
		panic(err)
	}
	for _, who := range []string{"rep-7", "rep-8", ""} {
		c := ctx
		if who != "" {
			c = access.WithPrincipal(ctx, access.Principal{ID: who, Roles: []string{"sales_rep"}})
		}
		a := sealed
		if err := p.Open(c, &a); err != nil {
			panic(err)
		}
		fmt.Printf("%q sees Email=%q NationalID=%q\n", who, a.Email, a.NationalID)
	}
	// Output:
	//   audit: rep-7 allow Email of acc_1: success (allowed by rule "own-accounts")
	//   audit: rep-7 deny NationalID of acc_1: failure (no rule allows this request (default deny))
	// "rep-7" sees Email="lucy@example.com" NationalID=""
	//   audit: rep-8 mask Email of acc_1: success (masked by rule "other-accounts")
	//   audit: rep-8 deny NationalID of acc_1: failure (no rule allows this request (default deny))
	// "rep-8" sees Email="l***@example.com" NationalID=""
	//   audit:  deny Email,NationalID of acc_1: failure (no principal)
	// "" sees Email="" NationalID=""
}

// StrictAccess turns a denial into an error, and leaves the record sealed.
func ExampleOptions_strictAccess() {
	type Account struct {
		ID    string `pii:"id"`
		Email string `pii:"email"`
	}
	p, _ := pii.New(newKeyring(), pii.Options{
		Checker: access.CheckerFunc(func(context.Context, access.Request) (access.Decision, error) {
			return access.Decision{Effect: access.Deny, Rule: "freeze", Reason: "reveals are frozen"}, nil
		}),
		StrictAccess: true,
	})
	ctx := context.Background()
	a := Account{ID: "acc_1", Email: "lucy@example.com"}
	_ = p.Seal(ctx, &a)
	err := p.Open(ctx, &a)
	fmt.Println(err)
	fmt.Println(errors.Is(err, access.ErrDenied), strings.HasPrefix(a.Email, "pg1."))
	// Output:
	// pii: Account.Email: access: denied by rule "freeze": reveals are frozen
	// true true
}

// prefixTokens is a toy reversible tokenizer that marks its tokens with
// "tok_". It cannot tell its tokens from values in domain "text", where a
// value may begin with "tok_" itself, and says so as a TokenRecognizer.
type prefixTokens struct{ vault map[string]string }

func (t *prefixTokens) Tokenize(_ context.Context, domain, value string) (string, error) {
	tok := fmt.Sprintf("tok_%d", len(t.vault)+1)
	t.vault[tok] = value
	return tok, nil
}

func (t *prefixTokens) Detokenize(_ context.Context, domain, token string) (string, error) {
	return t.vault[token], nil
}

func (t *prefixTokens) IsToken(domain, value string) bool { return strings.HasPrefix(value, "tok_") }

func (t *prefixTokens) RecognizesTokens(domain string) bool { return domain != string(pii.KindText) }

var _ pii.TokenRecognizer = (*prefixTokens)(nil)

func ExampleTokenRecognizer() {
	ctx := context.Background()
	p, _ := pii.New(newKeyring(), pii.Options{
		Checker:    access.InsecureAllowAll,
		Tokenizers: map[string]pii.Tokenizer{"vault": &prefixTokens{vault: map[string]string{}}},
	})
	type Ticket struct {
		ID    string `pii:"id"`
		Email string `pii:"email,token=vault"`
		Note  string `pii:"text,token=vault"`
	}
	t := Ticket{ID: "t-1", Email: "lucy@example.com"}
	fmt.Println(p.Seal(ctx, &t), t.Email)
	t.Note = "call back"
	err := p.Seal(ctx, &t)
	fmt.Println(errors.Is(err, pii.ErrNoTokenizer))
	// Output:
	// <nil> tok_1
	// true
}
