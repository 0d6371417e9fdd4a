package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/piiguard/piiguard/pii"
)

// Customer is a row of the customers table. Its PII fields are pii.String
// and pii.Value: they never print, and database/sql refuses to write them
// unless they are sealed, so a forgotten Seal fails instead of storing
// plaintext.
type Customer struct {
	ID         string               `pii:"id"`
	Name       pii.String           `pii:"name"`
	Email      pii.String           `pii:"email,search=EmailIndex"`
	EmailIndex string               // blind index of Email: "bi1.<key id>.<bits>"
	Phone      pii.String           `pii:"phone"`
	NationalID pii.String           `pii:"national_id,class=government_id"`
	BirthDate  pii.Value[time.Time] `pii:"dob"`
	City       string               // not personal enough to encrypt here
}

// Dialect is what differs between the SQL databases the store supports.
type Dialect int

// Dialects.
const (
	SQLite   Dialect = iota // modernc.org/sqlite, driver "sqlite"
	Postgres                // github.com/jackc/pgx/v5/stdlib, driver "pgx"
)

// bind rewrites the ? placeholders of q for the dialect.
func (d Dialect) bind(q string) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Store keeps customers in one table of a SQL database, sealed.
type Store struct {
	db    *sql.DB
	d     Dialect
	table string
	p     *pii.Protector
}

const columns = "id, name, email, email_index, phone, national_id, birth_date, city"

// Migrate creates the table and the index on the blind index column.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.table+` (
		id          TEXT PRIMARY KEY,
		name        TEXT NOT NULL,
		email       TEXT NOT NULL,
		email_index TEXT NOT NULL,
		phone       TEXT NOT NULL,
		national_id TEXT NOT NULL,
		birth_date  TEXT,
		city        TEXT NOT NULL
	)`)
	if err == nil {
		_, err = s.db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+s.table+`_email_index ON `+s.table+` (email_index)`)
	}
	return err
}

// Insert seals copies of the customers and inserts them in one
// transaction; the caller's values stay in the clear.
func (s *Store) Insert(ctx context.Context, cs ...Customer) error {
	sealed := append([]Customer(nil), cs...)
	if err := s.p.SealAll(ctx, sealed); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, c := range sealed {
		if err := insert(ctx, tx, s.d, s.table, c); err != nil {
			return err
		}
	}
	return tx.Commit()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insert(ctx context.Context, db execer, d Dialect, table string, c Customer) error {
	_, err := db.ExecContext(ctx, d.bind(`INSERT INTO `+table+` (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.Name, c.Email, c.EmailIndex, c.Phone, c.NationalID, c.BirthDate, c.City)
	return err
}

// FindByEmail returns the customers whose e-mail address is email (as a
// person would compare them: case and surrounding spaces do not count),
// opened. It selects rows by blind index under every enabled version of the
// search key, opens them, and drops the false matches a truncated index
// lets through.
func (s *Store) FindByEmail(ctx context.Context, email string) ([]Customer, int, error) {
	terms, err := s.p.SearchTerms(ctx, Customer{}, "Email", email)
	if err != nil || len(terms) == 0 {
		return nil, 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(terms)), ", ")
	args := make([]any, len(terms))
	for i, t := range terms {
		args[i] = t
	}
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT `+columns+` FROM `+s.table+` WHERE email_index IN (`+marks+`) ORDER BY id`), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var found []Customer
	for rows.Next() {
		var c Customer
		if err := rows.Scan(&c.ID, &c.Name, &c.Email, &c.EmailIndex, &c.Phone, &c.NationalID, &c.BirthDate, &c.City); err != nil {
			return nil, 0, err
		}
		found = append(found, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := s.p.OpenAll(ctx, found); err != nil {
		return nil, 0, err
	}
	matches := found[:0]
	for _, c := range found {
		if s.p.Equal(pii.KindEmail, c.Email.Reveal(), email) {
			matches = append(matches, c)
		}
	}
	return matches, len(terms), nil
}

// rawRow is a row as the database holds it.
type rawRow struct {
	ID, Name, EmailIndex, City string
}

func (s *Store) raw(ctx context.Context) ([]rawRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, email_index, city FROM `+s.table+` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rawRow
	for rows.Next() {
		var r rawRow
		if err := rows.Scan(&r.ID, &r.Name, &r.EmailIndex, &r.City); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func short(ciphertext string) string {
	if len(ciphertext) <= 24 {
		return ciphertext
	}
	return fmt.Sprintf("%s…(%d chars)", ciphertext[:16], len(ciphertext))
}
