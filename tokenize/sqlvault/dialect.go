package sqlvault

import (
	"strconv"
	"strings"

	"github.com/piiguard/piiguard/internal/sqlq"
)

// Dialect is the SQL database behind a Store. Its zero value is invalid.
type Dialect int

// Dialects.
const (
	// SQLite: modernc.org/sqlite (driver "sqlite", which OpenSQLite uses)
	// or any driver for SQLite 3.24 or later.
	SQLite Dialect = iota + 1
	// Postgres: PostgreSQL 12 or later, through github.com/jackc/pgx/v5/stdlib
	// (driver "pgx") or any driver that takes $n placeholders. This package
	// imports no PostgreSQL driver.
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// types returns the dialect's column types for bytes and integers.
func (d Dialect) types() (blob, integer string) {
	if d == Postgres {
		return "BYTEA", "BIGINT"
	}
	return "BLOB", "INTEGER"
}

// q names the table in query ("{t}") and, for PostgreSQL, rewrites its ?
// placeholders to $n.
func (d Dialect) q(table, query string) string {
	query = strings.ReplaceAll(query, "{t}", table)
	if d != Postgres {
		return query
	}
	return sqlq.Numbered(query)
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
