// Command crm-access shows piiguard's access control and audit trail around
// the customer records of a CRM:
//
//   - a policy file (policy.yaml in this folder) under which a sales rep
//     sees their own customers, a masked form of their colleagues', and
//     nothing of another tenant's;
//   - a national ID that support sees only after a recent MFA login, and
//     the strict mode that tells the application to ask for one;
//   - a request without a principal, denied;
//   - a break-glass reveal by an on-call engineer, which raises an alert;
//   - every decision written to a tamper-evident audit log: a JSON Lines
//     file chained with a MAC and sealed by signed checkpoints, with keys
//     from the key ring;
//   - the log verified, an incident query ("who accessed customer cus_1001
//     between T1 and T2"), and a tampered copy of the log caught by Verify
//     at its first bad record.
//
// Run it with:
//
//	go run ./examples/crm-access [-dir DIR] [-policy FILE]
//
// The keys of this demo live in memory (insecuremem.NewDriver and
// insecuremem.NewStore) and die with the process, so the audit log it leaves
// in -dir cannot be verified afterwards. A real service keeps its root key
// in a KMS and its keysets in a kms.Store: see examples/quickstart.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/pii"
)

// defaultPolicy is policy.yaml of this folder, built into the program so
// that it runs from anywhere.
//
//go:embed policy.yaml
var defaultPolicy []byte

// Keyset names.
const (
	auditMACKeyset  = "audit-mac"  // chains the audit records
	auditSignKeyset = "audit-sign" // signs the audit checkpoints
)

// checkpointEvery is small so that the demo's short log has checkpoints.
const checkpointEvery = 4

// Customer is a CRM record. Its sales rep owns it; it belongs to a tenant.
type Customer struct {
	ID         string `pii:"id,owner=SalesRepID,tenant=Tenant"`
	SalesRepID string
	Tenant     string
	Name       string `pii:"name"`
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string
	Phone      string `pii:"phone"`
	NationalID string `pii:"national_id"`
	City       string
}

func (c Customer) String() string {
	return fmt.Sprintf("Name=%q Email=%q Phone=%q NationalID=%q", c.Name, c.Email, c.Phone, c.NationalID)
}

func customers() []Customer {
	return []Customer{
		{ID: "cus_1001", SalesRepID: "mina", Tenant: "carfax", Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000", NationalID: "11010519491231002X", City: "Whitby"},
		{ID: "cus_1002", SalesRepID: "jonathan", Tenant: "carfax", Name: "Arthur Holmwood", Email: "arthur@example.com", Phone: "+44 20 7946 8001", NationalID: "AB123456C", City: "London"},
		{ID: "cus_1003", SalesRepID: "mina", Tenant: "purfleet", Name: "Quincey Morris", Email: "quincey@example.com", Phone: "+1 512 555 0100", NationalID: "078-05-1120", City: "Austin"},
	}
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("crm-access", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "folder for the audit log (default: a temporary folder, removed at exit)")
	policyFile := fs.String("policy", "", "YAML access policy (default: policy.yaml of this example, built in)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "crm-access:", err)
		return 1
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "crm-access-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	var policy *access.Policy
	var err error
	if *policyFile != "" {
		policy, err = access.LoadPolicyFile(*policyFile, access.PolicyOptions{})
	} else {
		policy, err = access.ParsePolicyYAML(defaultPolicy, access.PolicyOptions{})
	}
	if err != nil {
		return fail(err)
	}
	if err := run(context.Background(), stdout, *dir, policy); err != nil {
		return fail(err)
	}
	return 0
}

// demoKeyring returns an in-memory key ring with the keysets of the demo:
// field encryption, blind indexes, the audit chain's MAC and its
// checkpoint signatures.
func demoKeyring(ctx context.Context) (*kms.Keyring, error) {
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo-root"})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		return nil, err
	}
	for _, ks := range []struct {
		name    string
		purpose kms.Purpose
	}{
		{pii.DefaultFieldKeyset, kms.PurposeAEAD},
		{pii.DefaultSearchKeyset, kms.PurposePRF},
		{auditMACKeyset, kms.PurposeMAC},
		{auditSignKeyset, kms.PurposeSignature},
	} {
		if err := kms.NewAdmin(kr).Ensure(ctx, ks.name, ks.purpose); err != nil {
			kr.Close()
			return nil, err
		}
	}
	return kr, nil
}

// auditLog is the demo's audit trail: a chain over a JSON Lines file.
type auditLog struct {
	path     string
	file     *audit.FileSink
	chain    *audit.Chain
	async    *audit.AsyncSink
	mac      tink.MAC
	verifier tink.Verifier
	// Sink is what the Protector reports to: reveals (and masks and
	// denials, which Open reports as reveal events) go to the chain
	// synchronously — no audit record, no plaintext — and other events
	// (searches) through a buffer.
	Sink audit.Sink
}

func openAuditLog(ctx context.Context, kr *kms.Keyring, path string) (*auditLog, error) {
	l := &auditLog{path: path}
	var err error
	if l.mac, err = kr.MAC(ctx, auditMACKeyset); err != nil {
		return nil, err
	}
	signer, err := kr.Signer(ctx, auditSignKeyset)
	if err != nil {
		return nil, err
	}
	if l.verifier, err = kr.Verifier(ctx, auditSignKeyset); err != nil {
		return nil, err
	}
	if l.file, err = audit.NewFileSink(path, audit.FileOptions{}); err != nil {
		return nil, err
	}
	// This demo's keys live in memory: a log an earlier run left in the
	// folder was chained under keys that are gone, so it does not verify
	// and nothing is added to it.
	existing, err := audit.OpenLog(path)
	if err != nil {
		l.file.Close()
		return nil, err
	}
	l.chain, _, err = audit.ContinueChain(existing, l.file, l.mac, signer, l.verifier, audit.ChainOptions{CheckpointEvery: checkpointEvery})
	existing.Close()
	if err != nil {
		l.file.Close()
		return nil, fmt.Errorf("%s holds an audit log this run cannot continue (an earlier run wrote it under keys that lived in memory and are gone): use an empty -dir: %w", path, err)
	}
	l.async = audit.NewAsyncSink(l.chain, audit.AsyncOptions{})
	l.Sink = audit.SplitReveals(l.chain, l.async)
	return l, nil
}

// Close drains the buffer, seals the chain with a last checkpoint and
// closes the file.
func (l *auditLog) Close(ctx context.Context) error {
	return errors.Join(l.async.Close(ctx), l.chain.Close(ctx), l.file.Close())
}

// verify checks the log at path and returns the events that verified.
func (l *auditLog) verify(path string) ([]audit.Event, audit.VerifyReport, error) {
	f, err := audit.OpenLog(path)
	if err != nil {
		return nil, audit.VerifyReport{}, err
	}
	defer f.Close()
	var events []audit.Event
	rep, err := audit.Verify(f, l.mac, l.verifier, audit.VerifyOptions{
		CheckpointEvery: checkpointEvery,
		Visit:           func(_ uint64, e audit.Event) { events = append(events, e) },
	})
	return events, rep, err
}

// pager forwards events to next and, once one is recorded, pages the
// security team about break-glass reveals: pii marks their Reason.
func pager(out io.Writer, next audit.Sink) audit.Sink {
	return audit.SinkFunc(func(ctx context.Context, e audit.Event) error {
		if err := next.Record(ctx, e); err != nil {
			return err
		}
		if e.Decision == audit.DecisionAllow && strings.HasPrefix(e.Reason, "break-glass") {
			fmt.Fprintf(out, "ALERT (paging security): %s broke glass on %s, fields %s: %s\n", e.Actor, e.SubjectID, e.Field, e.Reason)
		}
		return nil
	})
}

func run(ctx context.Context, out io.Writer, dir string, policy *access.Policy) error {
	kr, err := demoKeyring(ctx)
	if err != nil {
		return err
	}
	defer kr.Close()
	fmt.Fprintln(out, "keys: in-memory root key and key store (demo only: they die with the process)")

	log, err := openAuditLog(ctx, kr, filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		return err
	}
	defer log.Close(ctx)
	fmt.Fprintf(out, "audit log: %s (chained with %q, checkpoints signed with %q)\n", log.path, auditMACKeyset, auditSignKeyset)

	sink := pager(out, log.Sink)
	p, err := pii.New(kr, pii.Options{Checker: policy, Audit: sink})
	if err != nil {
		return err
	}
	// For the screens that reveal one sensitive field on request, a denial
	// is an error that tells the application what to ask for.
	strict, err := pii.New(kr, pii.Options{Checker: policy, Audit: sink, StrictAccess: true})
	if err != nil {
		return err
	}

	// The "table": sealed rows.
	table := customers()
	if err := p.SealAll(ctx, table); err != nil {
		return err
	}
	row := func(id string) Customer {
		for _, c := range table {
			if c.ID == id {
				return c
			}
		}
		panic("no customer " + id)
	}
	open := func(ctx context.Context, p *pii.Protector, id string) (Customer, error) {
		c := row(id)
		err := p.Open(ctx, &c)
		return c, err
	}

	now := time.Now()
	mina := access.Principal{ID: "mina", Roles: []string{"sales_rep"}, Tenant: "carfax",
		Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthPassword}, Time: now.Add(-time.Hour)}}
	seward := access.Principal{ID: "seward", Roles: []string{"support"}, Tenant: "carfax",
		Auth: access.Authentication{Methods: []access.AuthMethod{access.AuthPassword}, Time: now.Add(-30 * time.Minute)}}
	vanHelsing := access.Principal{ID: "van.helsing", Roles: []string{"oncall"}}
	as := func(p access.Principal, purpose access.Purpose, request string) context.Context {
		c := audit.WithRequestID(access.WithPrincipal(ctx, p), request)
		if purpose != "" {
			c = access.WithPurpose(c, purpose)
		}
		return c
	}

	t1 := time.Now()

	fmt.Fprintf(out, "\n== mina (sales rep) finds her customer by e-mail and opens it\n")
	minaCtx := as(mina, "", "req-1")
	terms, err := p.SearchTerms(minaCtx, Customer{}, "Email", "Lucy.Westenra@example.com")
	if err != nil {
		return err
	}
	for _, c := range table {
		for _, t := range terms {
			if c.EmailIndex == t {
				opened, err := open(minaCtx, p, c.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s: %v\n", c.ID, opened)
			}
		}
	}

	fmt.Fprintf(out, "\n== mina opens jonathan's customer: masked\n")
	c, err := open(as(mina, "", "req-2"), p, "cus_1002")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cus_1002: %v\n", c)

	fmt.Fprintf(out, "\n== mina opens her customer in another tenant: denied\n")
	c, err = open(as(mina, "", "req-3"), p, "cus_1003")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cus_1003: %v\n", c)

	fmt.Fprintf(out, "\n== seward (support, password only) opens cus_1001 for a support case\n")
	sewardCtx := as(seward, access.PurposeSupport, "req-4")
	if c, err = open(sewardCtx, p, "cus_1001"); err != nil {
		return err
	}
	fmt.Fprintf(out, "cus_1001: %v\n", c)
	fmt.Fprintf(out, "\"show national ID\" (strict): ")
	if _, err = open(as(seward, access.PurposeSupport, "req-5"), strict, "cus_1001"); !errors.Is(err, access.ErrDenied) {
		return fmt.Errorf("expected a denial, got %v", err)
	}
	fmt.Fprintf(out, "%v\n-> the application asks seward for a one-time code\n", err)

	fmt.Fprintf(out, "\n== seward after a step-up MFA\n")
	seward.Auth = access.Authentication{Methods: []access.AuthMethod{access.AuthPassword, access.AuthOTP}, Time: time.Now()}
	if c, err = open(as(seward, access.PurposeSupport, "req-6"), strict, "cus_1001"); err != nil {
		return err
	}
	fmt.Fprintf(out, "cus_1001: %v\n", c)

	fmt.Fprintf(out, "\n== a request without a principal\n")
	if _, err = open(audit.WithRequestID(ctx, "req-7"), strict, "cus_1001"); !errors.Is(err, access.ErrNoPrincipal) {
		return fmt.Errorf("expected a denial, got %v", err)
	}
	fmt.Fprintf(out, "%v\n", err)

	fmt.Fprintf(out, "\n== van.helsing (on-call) breaks glass\n")
	glass := access.WithBreakGlass(as(vanHelsing, access.PurposeSecurity, "req-8"), "INC-4711 suspected account takeover")
	if c, err = open(glass, p, "cus_1001"); err != nil {
		return err
	}
	fmt.Fprintf(out, "cus_1001: %v\n", c)

	t2 := time.Now()
	if err := log.Close(ctx); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n== verify the audit log\n")
	events, rep, err := log.verify(log.path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "intact: %d records, %d signed checkpoints\n", rep.Records, rep.Checkpoints)

	fmt.Fprintf(out, "\n== incident: who accessed customer cus_1001 between T1 and T2?\n")
	q := audit.Query{SubjectID: "cus_1001", Actions: audit.RevealActions(), Since: t1, Until: t2}
	for _, e := range events {
		if q.Match(e) {
			fmt.Fprintf(out, "%-12s %-7s %-5s %-34s %s\n", e.Actor, e.RequestID, e.Decision, e.Field, e.Reason)
		}
	}
	q.Decisions = []string{audit.DecisionAllow}
	seen := map[string]bool{}
	for _, e := range events {
		if q.Match(e) && strings.Contains(","+e.Field+",", ",NationalID,") {
			seen[e.Actor] = true
		}
	}
	fmt.Fprintf(out, "saw the national ID in the clear: %d principals (seward after MFA, van.helsing by break-glass): %v\n", len(seen), seen["seward"] && seen["van.helsing"])

	fmt.Fprintf(out, "\n== someone edits the log to hide that mina looked at cus_1002\n")
	tampered := filepath.Join(dir, "audit-tampered.jsonl")
	if err := tamper(log.path, tampered, `"subject_id":"cus_1002"`, `"actor":"mina"`, `"actor":"renfield"`); err != nil {
		return err
	}
	_, rep, err = log.verify(tampered)
	var ve *audit.VerifyError
	if !errors.As(err, &ve) {
		return fmt.Errorf("the tampered log verified: %v", err)
	}
	fmt.Fprintf(out, "verify: %v\n", err)
	fmt.Fprintf(out, "first bad record: line %d, seq %d (the %d records before it verify)\n", ve.Line, ve.Seq, rep.Records)
	return nil
}

// tamper copies the log at src to dst, with old replaced by new in the
// first line that holds both match and old.
func tamper(src, dst, match, old, new string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, l := range lines {
		if bytes.Contains(l, []byte(match)) && bytes.Contains(l, []byte(old)) {
			lines[i] = bytes.Replace(l, []byte(old), []byte(new), 1)
			return os.WriteFile(dst, bytes.Join(lines, nil), 0o600)
		}
	}
	return fmt.Errorf("nothing to tamper with in %s", src)
}
