package piiguard

import "strconv"

// Dialect is the SQL database behind piiguard's SQL stores — kms/sqlstore
// (keysets and subject keys), audit.SQLSink (events) and tokenize/sqlvault
// (vaulted tokens) —, one type for all of them, so that one PostgreSQL is
// one constant. Its zero value is invalid. piiguard imports no driver: the
// application opens the *sql.DB with the driver it chooses.
type Dialect uint8

// Dialects.
const (
	// SQLite: SQLite 3.24 or later, e.g. through modernc.org/sqlite
	// (driver "sqlite", pure Go; what the stores' OpenSQLite functions use).
	SQLite Dialect = iota + 1
	// Postgres: PostgreSQL 12 or later, through github.com/jackc/pgx/v5/stdlib
	// (driver "pgx") or any driver that takes $n placeholders.
	Postgres
)

// String returns the dialect's name: "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Valid reports whether d is one of the dialects.
func (d Dialect) Valid() bool { return d == SQLite || d == Postgres }
