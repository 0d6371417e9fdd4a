// Command customers-sql shows piiguard with database/sql: it stores
// customers in SQLite with their personal data sealed, finds one by e-mail
// through a blind index, opens it, prints the masked view a support agent
// sees, and rotates the keys to show that old rows still open and are still
// found.
//
//	go run ./examples/customers-sql [-db customers.db]
//
// The same flow runs on PostgreSQL in the integration tests
// (go test -tags integration ./examples/customers-sql/).
//
// The keys of this demo live in memory and die with the process. A real
// service keeps its root key in a KMS (or a passphrase-protected key file)
// and its keysets in a kms.Store: see package kms and examples/quickstart.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/pii"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("customers-sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "SQLite file to write (default: a temporary file, removed at exit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "customers-sql-")
		if err != nil {
			fmt.Fprintln(stderr, "customers-sql:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "customers.db")
	}
	db, err := sql.Open("sqlite", *dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "customers-sql:", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	kr, err := demoKeyring(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "customers-sql:", err)
		return 1
	}
	defer kr.Close()
	if err := run(ctx, stdout, db, SQLite, "customers", kr); err != nil {
		fmt.Fprintln(stderr, "customers-sql:", err)
		return 1
	}
	return 0
}

// demoKeyring returns an in-memory key ring with the keysets the Protector
// uses.
func demoKeyring(ctx context.Context) (*kms.Keyring, error) {
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo-root"})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{Audit: audit.Discard})
	if err != nil {
		return nil, err
	}
	for name, purpose := range map[string]kms.Purpose{pii.DefaultFieldKeyset: kms.PurposeAEAD, pii.DefaultSearchKeyset: kms.PurposePRF} {
		if err := kms.NewAdmin(kr).Ensure(ctx, name, purpose); err != nil {
			kr.Close()
			return nil, err
		}
	}
	return kr, nil
}

func date(y int, m time.Month, d int) pii.Value[time.Time] {
	return pii.ValueOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// customers are the demo's data subjects.
func customers() []Customer {
	return []Customer{
		{ID: "cus_1001", Name: "Lucy Westenra", Email: "lucy.westenra@example.com", Phone: "+44 20 7946 8000", NationalID: "11010519491231002X", BirthDate: date(1987, 4, 12), City: "Whitby"},
		{ID: "cus_1002", Name: "Mina Harker", Email: "mina.harker@example.com", Phone: "+44 20 7946 8001", NationalID: "AB123456C", BirthDate: date(1990, 1, 2), City: "Exeter"},
		{ID: "cus_1003", Name: "Abraham Van Helsing", Email: "a.vanhelsing@example.nl", Phone: "+31 20 794 6800", NationalID: "NL-999999990", City: "Amsterdam"},
	}
}

// run is the whole demo over one database: the program runs it on SQLite,
// the integration test on PostgreSQL.
func run(ctx context.Context, out io.Writer, db *sql.DB, d Dialect, table string, kr *kms.Keyring) error {
	p, err := pii.New(kr, pii.Options{
		// No access control in this demo, deliberately: every field opens
		// for anyone. examples/crm-access shows a policy that decides per
		// field and per record.
		Checker:            access.InsecureAllowAll,
		IndexBits:          16, // √N < 2^bits < N/2 for 130 thousand to 4 billion customers
		DefaultCountryCode: "44",
	})
	if err != nil {
		return err
	}
	s := &Store{db: db, d: d, table: table, p: p}
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	// This demo's keys live in memory: rows an earlier run sealed can never
	// be opened again, and the demo does not seal new ones beside them.
	if rows, err := s.raw(ctx); err != nil {
		return err
	} else if len(rows) > 0 {
		return fmt.Errorf("table %s already holds %d sealed rows from an earlier run, whose keys lived in memory and are gone: "+
			"this demo will not seal anything beside them; give it a new -db file (keys that outlive the process: see examples/quickstart)", table, len(rows))
	}
	if err := s.Insert(ctx, customers()...); err != nil {
		return err
	}

	fmt.Fprintf(out, "== rows as the database holds them\n")
	rows, err := s.raw(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Fprintf(out, "%s  name=%s  email_index=%s  city=%s\n", r.ID, short(r.Name), r.EmailIndex, r.City)
	}

	fmt.Fprintf(out, "\n== an unsealed customer cannot be stored\n")
	plain := Customer{ID: "cus_9999", Name: "Renfield", Email: "renfield@example.com", Phone: "+44 1947 600999", NationalID: "X", City: "Purfleet"}
	if err := insert(ctx, db, d, table, plain); err != nil {
		fmt.Fprintf(out, "refused: %v\n", err)
	} else {
		return fmt.Errorf("an unsealed customer was stored")
	}

	term := "  Lucy.Westenra@EXAMPLE.com "
	fmt.Fprintf(out, "\n== find by e-mail %q\n", term)
	found, nterms, err := s.FindByEmail(ctx, term)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "search terms: %d, found: %d\n", nterms, len(found))
	for _, c := range found {
		dob, _ := c.BirthDate.Reveal()
		fmt.Fprintf(out, "%s  %s  %s  born %s\n", c.ID, c.Name.Reveal(), c.Email.Reveal(), dob.Format(time.DateOnly))

		fmt.Fprintf(out, "\n== the support view (masked, no key needed)\n")
		if err := pii.Redact(&c); err != nil {
			return err
		}
		mdob, _ := c.BirthDate.Masked()
		fmt.Fprintf(out, "%s  %s  %s  %s  %s  %s  %s\n", c.ID, c.Name.Reveal(), c.Email.Reveal(), c.Phone.Reveal(), c.NationalID.Reveal(), mdob, c.City)
	}

	fmt.Fprintf(out, "\n== rotate both keysets, add a customer, search again\n")
	for _, name := range []string{pii.DefaultFieldKeyset, pii.DefaultSearchKeyset} {
		if _, err := kms.NewAdmin(kr).Rotate(ctx, name); err != nil {
			return err
		}
	}
	late := Customer{ID: "cus_1004", Name: "Lucy Westenra", Email: "LUCY.WESTENRA@example.com", Phone: "020 7946 8004", NationalID: "22020619700101003Y", City: "London"}
	if err := s.Insert(ctx, late); err != nil {
		return err
	}
	found, nterms, err = s.FindByEmail(ctx, "lucy.westenra@example.com")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "search terms: %d (one per enabled search key version), found: %d\n", nterms, len(found))
	for _, c := range found {
		fmt.Fprintf(out, "%s  %s  %s\n", c.ID, c.Name.Reveal(), c.City)
	}
	return nil
}
