package sqlvault

import (
	"strings"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/sqlq"
)

// types returns the dialect's column types for bytes and integers.
func colTypes(d piiguard.Dialect) (blob, integer string) {
	if d == piiguard.Postgres {
		return "BYTEA", "BIGINT"
	}
	return "BLOB", "INTEGER"
}

// q names the table in query ("{t}") and, for PostgreSQL, rewrites its ?
// placeholders to $n.
func query(d piiguard.Dialect, table, query string) string {
	query = strings.ReplaceAll(query, "{t}", table)
	if d != piiguard.Postgres {
		return query
	}
	return sqlq.Numbered(query)
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
