package sqlq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNumbered(t *testing.T) {
	assert.Equal(t, "SELECT 1", Numbered("SELECT 1"))
	assert.Equal(t, "UPDATE t SET a = $1, b = 'é' WHERE c = $2 AND d = $3", Numbered("UPDATE t SET a = ?, b = 'é' WHERE c = ? AND d = ?"))
	q := ""
	for range 12 {
		q += "?,"
	}
	assert.Equal(t, "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,", Numbered(q))
}
