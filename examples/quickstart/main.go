// Command quickstart is piiguard's main job on embedded defaults: a root key
// file and SQLite, no server.
//
//	go run ./examples/quickstart [-data DIR]
//
// It keeps everything in a data folder (default ./piiguard-data, mode 0700,
// every file in it 0600): the root key file (root.key), the key store
// (keys.db), the customer database (customers.db) and a tamper-evident
// audit log (audit.jsonl). It
//
//  1. creates the root key and the keysets on the first run, and on later
//     runs opens them — and refuses to go on when keys that existed are
//     missing (see below),
//  2. seals three customers and stores them in SQLite (on the first run),
//     then prints the rows as the database holds them: ciphertext and
//     blind indexes,
//  3. finds a customer by e-mail through the blind index and opens the row,
//  4. opens the same row as a support agent, whose policy masks it,
//  5. rotates the field key (on the first run), stores a fourth customer
//     under the new version and shows that every row still opens,
//  6. runs the recovery drill (Verify), closes the audit log with a signed
//     checkpoint and verifies the whole log.
//
// # When keys are missing
//
// Where keys existed, their absence is an error, never a reason to make new
// ones: new keys cannot open what the old ones sealed. The quickstart
// creates the root key file and the key store together, in a data folder
// that has neither; if only one of them is there, or the customer database
// holds sealed rows while both are gone, it stops with a message naming
// the missing file and how to restore it, and changes nothing. A key store
// that lost a keyset is refused by kms itself (kms.ErrKeysMissing), as is
// a root key file that is not the one the store was made under
// (kms.ErrWrongRootKey).
//
// The root key file is protected by the passphrase in PIIGUARD_PASSPHRASE.
// Without it, quickstart uses a fixed demo passphrase and warns about it
// on stderr: never do that with real data.
package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/pii"
)

// demoPassphrase protects the quickstart's root key when
// PIIGUARD_PASSPHRASE is not set. It is public: it only suits a demo.
const demoPassphrase = "quickstart demo passphrase - not for real data"

// The files of the data folder.
const (
	rootKeyFile   = "root.key"
	keyStoreFile  = "keys.db"
	customersFile = "customers.db"
	auditFile     = "audit.jsonl"
)

// Customer is the application's model. The pii tags say what each field
// holds; piiguard does the rest.
type Customer struct {
	ID         string `pii:"id"`
	Name       string `pii:"name"`
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string // the blind index of Email, filled by Seal
	Phone      string `pii:"phone"`
	NationalID string `pii:"national_id,class=government_id"`
	City       string // not personal enough to seal: stays in the clear
}

// customers are stored on the first run; late is stored after the field
// key's rotation.
var (
	customers = []Customer{
		{ID: "cus_1001", Name: "Ada Lovelace", Email: "ada.lovelace@example.com", Phone: "+44 20 7946 0018", NationalID: "QQ123456C", City: "London"},
		{ID: "cus_1002", Name: "Grace Hopper", Email: "grace.hopper@example.com", Phone: "+1 202 555 0142", NationalID: "078-05-1120", City: "Arlington"},
		{ID: "cus_1003", Name: "Wu Jianxiong", Email: "wu.jianxiong@example.cn", Phone: "+86 21 5555 0100", NationalID: "11010519491231002X", City: "Shanghai"},
	}
	late = Customer{ID: "cus_1004", Name: "Katherine Johnson", Email: "katherine.johnson@example.com", Phone: "+1 757 555 0199", NationalID: "223-45-6789", City: "Hampton"}
)

// policy: the billing service sees everything it needs, a support agent
// sees masked contact details and never the national ID in full, and
// anything else is denied.
var policy = []access.Rule{
	{Name: "billing-service", Effect: access.Allow, Roles: []string{"billing"}, Actions: []access.Action{access.ActionReveal, access.ActionSearch}},
	{Name: "support-masked", Effect: access.Mask, Roles: []string{"support"}, Actions: []access.Action{access.ActionReveal}},
	{Name: "support-search", Effect: access.Allow, Roles: []string{"support"}, Actions: []access.Action{access.ActionSearch}},
}

func main() {
	data := flag.String("data", "piiguard-data", "folder for the root key, the key store, the customer database and the audit log")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, os.Stderr, *data); err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

// app is what the steps share.
type app struct {
	out     io.Writer
	kr      *kms.Keyring
	admin   *kms.Admin
	p       *pii.Protector
	db      *sql.DB
	billing context.Context
	support context.Context
}

func run(ctx context.Context, out, errOut io.Writer, dataDir string) (err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	step(out, "1. keys: a root key file and a SQLite key store")
	db, stored, err := openCustomers(ctx, filepath.Join(dataDir, customersFile))
	if err != nil {
		return err
	}
	defer db.Close()
	k, err := openKeys(ctx, out, errOut, dataDir, stored)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, k.close(ctx)) }()

	checker, err := access.NewPolicy(policy, access.PolicyOptions{})
	if err != nil {
		return err
	}
	p, err := pii.New(k.kr, pii.Options{Checker: checker, Audit: k.chain})
	if err != nil {
		return err
	}
	a := &app{
		out: out, kr: k.kr, admin: k.admin, p: p, db: db,
		billing: access.WithPrincipal(ctx, access.Principal{ID: "svc-billing", Roles: []string{"billing"}}),
		support: access.WithPrincipal(ctx, access.Principal{ID: "agent-7", Roles: []string{"support"}}),
	}
	if err := a.storeCustomers(ctx, stored); err != nil {
		return err
	}
	if err := a.search(ctx); err != nil {
		return err
	}
	if err := a.rotate(ctx); err != nil {
		return err
	}

	step(out, "6. recovery drill and audit trail")
	rep, err := k.admin.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d keysets, %d key versions open their canaries\n", rep.Keysets, rep.Checked)
	return k.closeAndVerifyAudit(ctx, out)
}

func step(out io.Writer, s string) { fmt.Fprintf(out, "\n== %s\n", s) }

// storeCustomers seals and stores the three customers on the first run,
// then prints the rows as the database holds them.
func (a *app) storeCustomers(ctx context.Context, stored int) error {
	step(a.out, "2. seal the customers and store them")
	if stored == 0 {
		for _, c := range customers {
			if err := a.p.Seal(a.billing, &c); err != nil {
				return err
			}
			if err := insert(ctx, a.db, c); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "sealed and stored %s (%s, %s)\n", c.ID, customerName(c.ID), c.City)
		}
	} else {
		fmt.Fprintf(a.out, "customers.db already holds %s, sealed on an earlier run: they are kept as they are\n", plural(stored, "customer"))
	}
	rows, err := load(ctx, a.db, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(a.out, "the rows as the database holds them:")
	for _, c := range rows {
		fmt.Fprintf(a.out, "  %s  name=%s  email=%s  email_index=%s  city=%s\n", c.ID, short(c.Name), short(c.Email), c.EmailIndex, c.City)
	}
	return nil
}

// search finds Ada by e-mail through the blind index and opens the row as
// the billing service and as a support agent.
func (a *app) search(ctx context.Context) error {
	step(a.out, "3. find a customer by e-mail through the blind index, and open the row")
	term := "  Ada.Lovelace@EXAMPLE.com"
	found, err := findByEmail(a.billing, a.p, a.db, term)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "search %q: %s\n", term, plural(len(found), "match"))
	for _, c := range found {
		sealed := c
		if err := a.p.Open(a.billing, &c); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "billing sees:  %s | %s | %s | %s | %s\n", c.Name, c.Email, c.Phone, c.NationalID, c.City)

		step(a.out, "4. the same row, opened by a support agent (policy: mask)")
		if err := a.p.Open(a.support, &sealed); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "support sees:  %s | %s | %s | %s | %s\n", sealed.Name, sealed.Email, sealed.Phone, sealed.NationalID, sealed.City)
	}
	return nil
}

// rotate rotates the field key on the first run and stores the fourth
// customer under the new version; every run then opens every row.
func (a *app) rotate(ctx context.Context) error {
	step(a.out, "5. rotate the field key; old rows still open")
	have, err := load(ctx, a.db, "WHERE id = ?", late.ID)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		v, err := a.admin.Rotate(ctx, pii.DefaultFieldKeyset)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.out, "rotated %s: version %d (key ID %d) is now primary\n", pii.DefaultFieldKeyset, v.Number, v.ID)
		c := late
		if err := a.p.Seal(a.billing, &c); err != nil {
			return err
		}
		if err := insert(ctx, a.db, c); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "sealed and stored %s (%s, %s) under the new version\n", c.ID, late.Name, c.City)
	} else {
		vs, err := a.admin.Versions(ctx, pii.DefaultFieldKeyset)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.out, "%s was rotated on the first run and has %d versions; not rotating again. %s (%s) was stored under the new version then\n",
			pii.DefaultFieldKeyset, len(vs), late.ID, late.Name)
	}
	all, err := load(ctx, a.db, "")
	if err != nil {
		return err
	}
	for _, c := range all {
		kid := keyID(c.Name)
		if err := a.p.Open(a.billing, &c); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "%s  sealed under key ID %-10d  opens: %s\n", c.ID, kid, c.Name)
	}
	return nil
}

// customerName returns the name of a demo customer by ID.
func customerName(id string) string {
	for _, c := range append(customers[:len(customers):len(customers)], late) {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

// openCustomers opens the customer database, creating it (mode 0600) and
// its table if needed, and returns how many customers it holds. It never
// drops or rewrites what is there.
func openCustomers(ctx context.Context, path string) (*sql.DB, int, error) {
	if err := createPrivate(path); err != nil {
		return nil, 0, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, 0, err
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, email_index TEXT, phone TEXT, national_id TEXT, city TEXT)`,
		`CREATE INDEX IF NOT EXISTS customers_email_index ON customers (email_index)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		db.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return db, n, nil
}

// createPrivate creates an empty file with mode 0600 if path does not
// exist, so that SQLite does not create it (and its -wal and -shm files)
// readable by all. (kms/sqlstore.OpenSQLite does the same for the key
// store; this example keeps its own copy so that it can be copied whole.)
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func insert(ctx context.Context, db *sql.DB, c Customer) error {
	_, err := db.ExecContext(ctx, `INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Email, c.EmailIndex, c.Phone, c.NationalID, c.City)
	return err
}

// load reads customers, all of them or those the where clause selects.
func load(ctx context.Context, db *sql.DB, where string, args ...any) ([]Customer, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name, email, email_index, phone, national_id, city FROM customers `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		var c Customer
		if err := rows.Scan(&c.ID, &c.Name, &c.Email, &c.EmailIndex, &c.Phone, &c.NationalID, &c.City); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// findByEmail asks pii for the index values of term under every enabled
// search key version and selects the rows that carry one of them.
func findByEmail(ctx context.Context, p *pii.Protector, db *sql.DB, term string) ([]Customer, error) {
	terms, err := p.SearchTerms(ctx, &Customer{}, "Email", term)
	if err != nil {
		return nil, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(terms)), ",")
	args := make([]any, len(terms))
	for i, t := range terms {
		args[i] = t
	}
	return load(ctx, db, "WHERE email_index IN ("+marks+")", args...)
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// keyID reads the key ID out of a sealed value ("pg1." and the base64url
// of a Tink ciphertext, whose bytes 1–4 are the key ID).
func keyID(sealed string) uint32 {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "pg1."))
	if err != nil || len(b) < 5 {
		return 0
	}
	return uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
}
