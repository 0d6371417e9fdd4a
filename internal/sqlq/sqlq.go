// Package sqlq holds what the SQL stores of piiguard (kms/sqlstore,
// tokenize's token store, audit's SQL sink) share about query text.
package sqlq

import (
	"strconv"
	"strings"
)

// Numbered turns the ? placeholders of q into $1, $2, … (PostgreSQL's
// form). Every ? is taken for a placeholder: the queries it is given hold
// no ? in literals or identifiers.
func Numbered(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
