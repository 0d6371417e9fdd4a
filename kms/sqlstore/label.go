package sqlstore

import "github.com/piiguard/piiguard/internal/sqlq"

// PostgresLabel returns a label for Options.Label that names the database
// of a PostgreSQL connection string: its host (or hosts), port and
// database name, as "db.example.com:5432/app". dsn is a postgres:// or
// postgresql:// URL or a libpq keyword/value string ("host=… dbname=…").
// The label never holds the user name, the password or any other
// parameter. Parts the string does not give are left out; it is "" when
// the string gives none, is not a connection string, or is so malformed
// (an unescaped '/', '?', '#' or '@' in a password) that its host cannot
// be told apart from its password.
func PostgresLabel(dsn string) string { return sqlq.PostgresLabel(dsn) }
