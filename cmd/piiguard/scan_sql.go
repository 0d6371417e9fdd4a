package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/piiguard/piiguard/detect"
	"github.com/piiguard/piiguard/internal/pgtls"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// sealedRE matches a value piiguard wrote: a ciphertext of package pii
// ("pg" and a format version), a blind index ("bi1.") or a marked token
// of package tokenize (HMAC "th1_", SIV "ts1_", vaulted "tv1_"). Format-
// preserving tokens carry no marker and cannot be told from values.
var sealedRE = regexp.MustCompile(`^(?:pg[0-9]+\.[A-Za-z0-9_-]+|bi1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+|t[hsv]1_[a-z0-9_]+)$`)

// sqlColumn is a column the scan samples.
type sqlColumn struct {
	name, typ string
}

// sqlDialect is what differs between SQLite and PostgreSQL.
type sqlDialect interface {
	// tables lists the tables, as the names to report them by.
	tables(ctx context.Context, db *sql.DB) ([]string, error)
	// columns lists the text columns of a table.
	columns(ctx context.Context, db *sql.DB, table string) ([]sqlColumn, error)
	// sampleQuery selects the columns of up to $1 rows of a table.
	sampleQuery(table string, cols []sqlColumn) string
	// errorText describes an error of the database, with nothing secret.
	errorText(err error) string
}

// scanSQLite samples the tables of an SQLite database file, opened read
// only.
func (s *scanner) scanSQLite(ctx context.Context, path string) databaseReport {
	rep := databaseReport{Database: "sqlite:" + path, Tables: []tableReport{}}
	db, err := openSQLiteReadOnly(path)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	defer db.Close()
	s.scanDatabase(ctx, db, sqliteDialect{}, &rep)
	return rep
}

// openSQLiteReadOnly opens path read only (mode=ro, and query_only for
// good measure): a scan never writes, and never creates a missing file.
func openSQLiteReadOnly(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, errors.New(pathErrorText(err))
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	fi, serr := f.Stat()
	f.Close()
	switch {
	case serr == nil && fi.IsDir():
		return nil, errors.New("is a directory, not an SQLite file")
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errors.New(pathErrorText(err))
	case string(head) != "SQLite format 3\x00":
		return nil, errors.New("not an SQLite database")
	}
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() +
		"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"
	return sql.Open("sqlite", dsn)
}

// scanPostgres samples the tables of a PostgreSQL database, each in a read
// only transaction. The URL is never printed: the database is named by
// sqlstore.PostgresLabel, and the password is scrubbed from every message
// of the driver.
func (s *scanner) scanPostgres(ctx context.Context, dsn string) databaseReport {
	label := sqlstore.PostgresLabel(dsn)
	if label == "" {
		label = "(unnamed)"
	}
	rep := databaseReport{Database: "postgres:" + label, Tables: []tableReport{}}
	if err := pgtls.Check(dsn, os.Getenv(envPGTLSReason)); err != nil {
		rep.Error = err.Error() // names the host, never the password
		return rep
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// The parser's message may quote the URL: it is not echoed.
		rep.Error = "the connection URL is not valid"
		return rep
	}
	d := postgresDialect{secrets: postgresSecrets(dsn, cfg.Password)}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		rep.Error = "the connection URL is not valid"
		return rep
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		rep.Error = "connect: " + d.errorText(err)
		return rep
	}
	s.scanDatabase(ctx, db, d, &rep)
	return rep
}

// postgresSecrets are the strings no message may hold: the password, as
// written and as URL-decoded.
func postgresSecrets(dsn, password string) []string {
	var out []string
	if password != "" {
		out = append(out, password, url.QueryEscape(password), url.PathEscape(password))
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// scanDatabase samples every table (or those of -tables) of db.
func (s *scanner) scanDatabase(ctx context.Context, db *sql.DB, d sqlDialect, rep *databaseReport) {
	names, err := d.tables(ctx, db)
	if err != nil {
		rep.Error = "list tables: " + d.errorText(err)
		return
	}
	if len(s.opts.tables) > 0 {
		var missing []string
		for _, want := range s.opts.tables {
			if !slices.Contains(names, want) {
				missing = append(missing, want)
			}
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(s.opts.tables, n) })
		for _, m := range missing {
			rep.Tables = append(rep.Tables, tableReport{Table: m, Columns: []columnReport{}, Notes: []string{}, Error: "no such table"})
		}
	}
	s.progress.start("sampling "+rep.Database, int64(len(names)), false)
	defer s.progress.finish()
	for _, name := range names {
		if ctx.Err() != nil {
			return
		}
		rep.Tables = append(rep.Tables, s.scanTable(ctx, db, d, name))
		s.progress.add(1)
	}
}

// scanTable samples up to -sample rows of a table's text columns and
// classifies every value.
func (s *scanner) scanTable(ctx context.Context, db *sql.DB, d sqlDialect, table string) tableReport {
	rep := tableReport{Table: table, Columns: []columnReport{}, Notes: []string{}}
	cols, err := d.columns(ctx, db, table)
	if err != nil {
		rep.Error = d.errorText(err)
		return rep
	}
	if len(cols) == 0 {
		rep.Notes = append(rep.Notes, "no text columns")
		return rep
	}
	acc := make([]*columnAcc, len(cols))
	for i, c := range cols {
		acc[i] = &columnAcc{report: columnReport{Name: c.name, Type: c.typ, Kinds: []kindCount{}, Examples: []string{}}, kinds: map[detect.Kind]int{}}
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		rep.Error = d.errorText(err)
		return rep
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, d.sampleQuery(table, cols), s.opts.sample)
	if err != nil {
		rep.Error = d.errorText(err)
		return rep
	}
	defer rows.Close()
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	var long bool
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rep.Error = d.errorText(err)
			return rep
		}
		rep.RowsSampled++
		for i, v := range values {
			long = s.classify(acc[i], v) || long
		}
	}
	if err := rows.Err(); err != nil {
		rep.Error = d.errorText(err)
		return rep
	}
	for _, a := range acc {
		rep.Columns = append(rep.Columns, a.finish())
	}
	if long {
		rep.Notes = append(rep.Notes, fmt.Sprintf("values over %d bytes were classified by their first %d bytes", maxValueBytes, maxValueBytes))
	}
	return rep
}

// columnAcc accumulates what the values of a column hold.
type columnAcc struct {
	report columnReport
	kinds  map[detect.Kind]int
}

// classify classifies one value of a column; it reports whether the value
// was cut to maxValueBytes.
func (s *scanner) classify(a *columnAcc, v any) (cut bool) {
	var text string
	switch v := v.(type) {
	case string:
		text = v
	case []byte:
		if !utf8.Valid(v) {
			return false // a binary value
		}
		text = string(v)
	default:
		return false // NULL, a number, a time
	}
	if strings.TrimSpace(text) == "" {
		return false
	}
	a.report.Values++
	if sealedRE.MatchString(text) {
		a.report.Sealed++
		return false
	}
	if len(text) > maxValueBytes {
		text, cut = text[:maxValueBytes], true
	}
	spans := s.d.FindField(a.report.Name, text)
	if len(spans) == 0 {
		return cut
	}
	a.report.WithPII++
	seen := map[detect.Kind]bool{}
	for _, sp := range spans {
		if !seen[sp.Kind] {
			seen[sp.Kind] = true
			a.kinds[sp.Kind]++
		}
		if len(a.report.Examples) < s.opts.hits {
			if m := detect.Mask(sp.Kind, text[sp.Start:sp.End]); !slices.Contains(a.report.Examples, m) {
				a.report.Examples = append(a.report.Examples, m)
			}
		}
	}
	return cut
}

func (a *columnAcc) finish() columnReport {
	r := a.report
	for _, k := range detect.Kinds() {
		if n := a.kinds[k]; n > 0 {
			r.Kinds = append(r.Kinds, kindCount{Kind: k.String(), Values: n})
		}
	}
	switch {
	case r.Sealed > 0 && r.Sealed == r.Values:
		r.Status = columnSealed
	case r.Sealed > 0:
		// piiguard sealed some values of this column: the others are
		// personal data in the clear, found or not.
		r.Status = columnPartlySealed
	case r.WithPII > 0:
		r.Status = columnUnsealed
	default:
		r.Status = columnClean
	}
	return r
}

// quoteIdent quotes an SQL identifier for SQLite and PostgreSQL.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

type sqliteDialect struct{}

func (sqliteDialect) tables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

func (sqliteDialect) columns(ctx context.Context, db *sql.DB, table string) ([]sqlColumn, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []sqlColumn
	for rows.Next() {
		var c sqlColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		if sqliteTextAffinity(c.typ) {
			cols = append(cols, c)
		}
	}
	return cols, rows.Err()
}

// sqliteTextAffinity reports whether a column of the declared type can
// hold text as text: TEXT affinity, or BLOB (no declared type), whose
// values keep the type they were written with
// (https://sqlite.org/datatype3.html#determination_of_column_affinity).
func sqliteTextAffinity(typ string) bool {
	t := strings.ToUpper(typ)
	switch {
	case strings.Contains(t, "INT"):
		return false
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return true
	case t == "", strings.Contains(t, "BLOB"):
		return true
	}
	return false // REAL and NUMERIC
}

func (sqliteDialect) sampleQuery(table string, cols []sqlColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(table) + " LIMIT ?"
}

func (sqliteDialect) errorText(err error) string { return err.Error() }

type postgresDialect struct{ secrets []string }

func (postgresDialect) tables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY table_schema, table_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// postgresTextTypes are the column types sampled (information_schema's
// data_type, or udt_name for extension types).
var postgresTextTypes = []string{"text", "character varying", "character", "json", "jsonb", "citext", "xml"}

func (postgresDialect) columns(ctx context.Context, db *sql.DB, table string) ([]sqlColumn, error) {
	schema, name, _ := strings.Cut(table, ".")
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []sqlColumn
	for rows.Next() {
		var c sqlColumn
		var udt string
		if err := rows.Scan(&c.name, &c.typ, &udt); err != nil {
			return nil, err
		}
		if slices.Contains(postgresTextTypes, c.typ) || slices.Contains(postgresTextTypes, udt) {
			if c.typ == "USER-DEFINED" {
				c.typ = udt
			}
			cols = append(cols, c)
		}
	}
	return cols, rows.Err()
}

func (postgresDialect) sampleQuery(table string, cols []sqlColumn) string {
	schema, name, _ := strings.Cut(table, ".")
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name) + "::text"
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(schema) + "." + quoteIdent(name) + " LIMIT $1"
}

// errorText is the driver's message on one line, without the user name
// pgx puts in connection errors (the report names the database as
// sqlstore.PostgresLabel does, without it) and without the password: pgx
// does not quote passwords, and this makes sure of it.
func (d postgresDialect) errorText(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		err = ce.Unwrap()
	}
	msg := err.Error()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg = pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	// One line, each of pgx's per-host attempts once.
	var lines []string
	for l := range strings.Lines(msg) {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	msg = strings.Join(lines, "; ")
	for _, s := range d.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}
