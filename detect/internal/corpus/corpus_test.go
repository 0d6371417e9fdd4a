package corpus

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The check characters against the examples published with each standard.
func TestChecksAgainstPublishedExamples(t *testing.T) {
	t.Parallel()
	assert.True(t, luhnOK("4111111111111111"))
	assert.True(t, luhnOK("79927398713")) // the Luhn article's example
	assert.False(t, luhnOK("79927398710"))
	assert.Equal(t, byte('X'), gb11643Char("11010519491231002")) // GB 11643-1999
	assert.Equal(t, byte('4'), gb11643Char("44052418800101001"))
	assert.Equal(t, "82", ibanCheck("GB", "WEST12345698765432")) // ISO 13616 example
	assert.Equal(t, "89", ibanCheck("DE", "370400440532013000"))
	assert.Equal(t, byte('8'), myNumberDigit("12345678901")) // 123456789018, the usual example
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	require.NoError(t, Write(&a, Generate(7, 300)))
	require.NoError(t, Write(&b, Generate(7, 300)))
	assert.Equal(t, a.String(), b.String())
	var c bytes.Buffer
	require.NoError(t, Write(&c, Generate(8, 300)))
	assert.NotEqual(t, a.String(), c.String())
}

func TestLabelsAreExactSpans(t *testing.T) {
	t.Parallel()
	for _, s := range Generate(DefaultSeed, DefaultSize) {
		require.True(t, utf8.ValidString(s.Text), "snippet %d", s.ID)
		prev := 0
		for _, l := range s.Spans {
			require.LessOrEqual(t, prev, l.Start, "snippet %d: spans overlap or are out of order", s.ID)
			require.Less(t, l.Start, l.End, "snippet %d", s.ID)
			v := s.Text[l.Start:l.End]
			assert.Equal(t, strings.TrimSpace(v), v, "snippet %d: span has surrounding space", s.ID)
			assert.True(t, utf8.ValidString(v), "snippet %d: span cuts a character", s.ID)
			prev = l.End
		}
	}
}
