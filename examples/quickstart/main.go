// Command quickstart is piiguard's main job on embedded defaults: a root key
// file and SQLite, no server.
//
//	go run ./examples/quickstart [-data DIR]
//
// It keeps everything in a data folder (default ./piiguard-data): the root
// key file (root.key), the key store (keys.db), the customer database
// (customers.db) and the audit log (audit.jsonl). It
//
//  1. creates the root key and the keysets on the first run (later runs
//     reuse them),
//  2. seals a few customers and stores them in SQLite, then prints the rows
//     as the database holds them: ciphertext and blind indexes,
//  3. finds a customer by e-mail through the blind index and opens the row,
//  4. opens the same row as a support agent, whose policy masks it,
//  5. rotates the field key, stores a new customer under the new version and
//     shows that the old rows still open,
//  6. runs the recovery drill (Verify) and counts the audit events.
//
// The root key file is protected by the passphrase in PIIGUARD_PASSPHRASE.
// Without it, quickstart uses a fixed demo passphrase and says so: never
// do that with real data.
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
	"log"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/sqlstore"
	"github.com/piiguard/piiguard/pii"
)

// demoPassphrase protects the quickstart's root key when
// PIIGUARD_PASSPHRASE is not set. It is public: it only suits a demo.
const demoPassphrase = "quickstart demo passphrase - not for real data"

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

var customers = []Customer{
	{ID: "cus_1001", Name: "Ada Lovelace", Email: "ada.lovelace@example.com", Phone: "+44 20 7946 0018", NationalID: "QQ123456C", City: "London"},
	{ID: "cus_1002", Name: "Grace Hopper", Email: "grace.hopper@example.com", Phone: "+1 202 555 0142", NationalID: "078-05-1120", City: "Arlington"},
	{ID: "cus_1003", Name: "Wu Jianxiong", Email: "wu.jianxiong@example.cn", Phone: "+86 21 5555 0100", NationalID: "11010519491231002X", City: "Shanghai"},
}

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
	if err := run(context.Background(), os.Stdout, *data); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	kr, closeKeys, err := openKeys(ctx, out, dataDir)
	if err != nil {
		return err
	}
	defer closeKeys()

	// The audit log: one JSON line per event, never a value.
	sink, err := audit.NewFileSink(filepath.Join(dataDir, "audit.jsonl"), audit.FileOptions{})
	if err != nil {
		return err
	}
	defer sink.Close()
	checker, err := access.NewPolicy(policy, access.PolicyOptions{})
	if err != nil {
		return err
	}
	p, err := pii.New(kr, pii.Options{Checker: checker, Audit: sink})
	if err != nil {
		return err
	}

	db, err := openCustomers(ctx, filepath.Join(dataDir, "customers.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	billing := access.WithPrincipal(ctx, access.Principal{ID: "svc-billing", Roles: []string{"billing"}})
	support := access.WithPrincipal(ctx, access.Principal{ID: "agent-7", Roles: []string{"support"}})

	step(out, "2. seal the customers and store them")
	for _, c := range customers {
		if err := p.Seal(billing, &c); err != nil {
			return err
		}
		if err := insert(ctx, db, c); err != nil {
			return err
		}
	}
	if err := printRows(ctx, out, db); err != nil {
		return err
	}

	step(out, "3. find a customer by e-mail through the blind index, and open the row")
	term := "  Ada.Lovelace@EXAMPLE.com"
	found, err := findByEmail(billing, p, db, term)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "search %q: %d match\n", term, len(found))
	for _, c := range found {
		sealed := c
		if err := p.Open(billing, &c); err != nil {
			return err
		}
		fmt.Fprintf(out, "billing sees:  %s | %s | %s | %s | %s\n", c.Name, c.Email, c.Phone, c.NationalID, c.City)

		step(out, "4. the same row, opened by a support agent (policy: mask)")
		if err := p.Open(support, &sealed); err != nil {
			return err
		}
		fmt.Fprintf(out, "support sees:  %s | %s | %s | %s | %s\n", sealed.Name, sealed.Email, sealed.Phone, sealed.NationalID, sealed.City)
	}

	step(out, "5. rotate the field key; old rows still open")
	v, err := kr.Rotate(ctx, pii.DefaultFieldKeyset)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: version %d (key ID %d) is now primary\n", pii.DefaultFieldKeyset, v.Number, v.ID)
	late := Customer{ID: "cus_1004", Name: "Katherine Johnson", Email: "katherine.johnson@example.com", Phone: "+1 757 555 0199", NationalID: "223-45-6789", City: "Hampton"}
	if err := p.Seal(billing, &late); err != nil {
		return err
	}
	if err := insert(ctx, db, late); err != nil {
		return err
	}
	all, err := load(ctx, db, "")
	if err != nil {
		return err
	}
	for _, c := range all {
		kid := keyID(c.Name)
		if err := p.Open(billing, &c); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s  sealed under key ID %-10d  opens: %s\n", c.ID, kid, c.Name)
	}

	step(out, "6. recovery drill and audit trail")
	rep, err := kr.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d keysets, %d key versions open their canaries\n", rep.Keysets, rep.Checked)
	if err := sink.Flush(ctx); err != nil {
		return err
	}
	n, err := countLines(filepath.Join(dataDir, "audit.jsonl"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "audit.jsonl: %d events so far (reveals, masks, searches; no values)\n", n)
	return nil
}

func step(out io.Writer, s string) { fmt.Fprintf(out, "\n== %s\n", s) }

// openKeys opens (or, on the first run, creates) the root key file and the
// SQLite key store, and makes sure the keysets pii uses exist.
func openKeys(ctx context.Context, out io.Writer, dataDir string) (*kms.Keyring, func(), error) {
	step(out, "1. keys: a root key file and a SQLite key store")
	pass := []byte(os.Getenv("PIIGUARD_PASSPHRASE"))
	if len(pass) == 0 {
		fmt.Fprintln(out, "PIIGUARD_PASSPHRASE is not set: using the public demo passphrase (never with real data)")
		pass = []byte(demoPassphrase)
	}
	keyPath := filepath.Join(dataDir, "root.key")
	drv, err := kms.OpenLocalKeyFile(keyPath, pass, kms.LocalOptions{})
	if errors.Is(err, fs.ErrNotExist) || kms.ErrorCode(err) == kms.CodeNotFound {
		fmt.Fprintf(out, "creating root key file %s (argon2id + AES-256-GCM)\n", keyPath)
		drv, err = kms.CreateLocalKeyFile(keyPath, pass, kms.LocalOptions{})
	}
	if err != nil {
		return nil, nil, err
	}
	root := kms.NewRootKey(drv, kms.RootKeyOptions{Name: "local:" + keyPath})
	store, err := sqlstore.OpenSQLite(filepath.Join(dataDir, "keys.db"))
	if err != nil {
		root.Close()
		return nil, nil, err
	}
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	if err == nil {
		for name, p := range map[string]kms.Purpose{pii.DefaultFieldKeyset: kms.PurposeAEAD, pii.DefaultSearchKeyset: kms.PurposePRF} {
			if err = kr.Ensure(ctx, name, p); err != nil {
				break
			}
		}
	}
	closeAll := func() {
		if kr != nil {
			kr.Close()
		}
		store.Close()
		root.Close()
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	for _, name := range []string{pii.DefaultFieldKeyset, pii.DefaultSearchKeyset} {
		vs, err := kr.Versions(ctx, name)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		for _, v := range vs {
			primary := ""
			if v.Primary {
				primary = "  (primary)"
			}
			fmt.Fprintf(out, "  %s v%d  key ID %-10d  %s%s\n", name, v.Number, v.ID, v.Status, primary)
		}
	}
	return kr, closeAll, nil
}

// openCustomers opens the customer database and starts it afresh.
func openCustomers(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{
		`DROP TABLE IF EXISTS customers`,
		`CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, email_index TEXT, phone TEXT, national_id TEXT, city TEXT)`,
		`CREATE INDEX customers_email_index ON customers (email_index)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func insert(ctx context.Context, db *sql.DB, c Customer) error {
	_, err := db.ExecContext(ctx, `INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Email, c.EmailIndex, c.Phone, c.NationalID, c.City)
	return err
}

// load reads customers, all of them or those whose e-mail index is one of
// the terms given.
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

func printRows(ctx context.Context, out io.Writer, db *sql.DB) error {
	rows, err := load(ctx, db, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "the rows as the database holds them:")
	for _, c := range rows {
		fmt.Fprintf(out, "  %s  name=%s  email=%s  email_index=%s  city=%s\n", c.ID, short(c.Name), short(c.Email), c.EmailIndex, c.City)
	}
	return nil
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

func countLines(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strings.Count(string(b), "\n"), nil
}
