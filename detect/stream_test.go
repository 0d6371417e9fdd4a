package detect

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

func scanAll(t *testing.T, sc *Scanner) []Span {
	t.Helper()
	var out []Span
	for sc.Scan() {
		out = append(out, sc.Span())
	}
	require.NoError(t, sc.Err())
	return out
}

// sample holds a value of every kind, full-width digits and a CSV header.
const sample = "mail alice@example.com, 手机 １３８ １２３４ ５６７８, card 4111-1111-1111-1111, " +
	"身份证 11010519491231002X, IBAN GB82 WEST 1234 5698 7654 32, from 2001:db8::1 and 203.0.113.7, " +
	"SSN 123-45-6789, NINO AB 12 34 56 C, マイナンバー 1234 5678 9018, DOB 1985-03-12, passport E12345678\n" +
	"id,passport_no\n7,G12345678\n"

// A value is found wherever the reads split it: the sample is put at
// every offset from a buffer boundary.
func TestScannerFindsValuesAcrossEveryBoundary(t *testing.T) {
	t.Parallel()
	d := Default()
	size := lookBehind + lookAhead + 1
	want := d.FindString(sample)
	require.Len(t, want, 13)
	for pad := 0; pad < size+len(sample); pad += 1 {
		text := strings.Repeat("x ", pad/2) + strings.Repeat(" ", pad%2) + sample
		got := scanAll(t, newScanner(d, strings.NewReader(text), size))
		require.Equal(t, d.FindString(text), got, "pad %d", pad)
		require.Len(t, got, len(want), "pad %d", pad)
	}
}

// Over the whole corpus, read one byte at a time through a small buffer,
// the Scanner finds what Find finds.
func TestScannerMatchesFindOnCorpus(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	for _, s := range corpus.Generate(5, 1500) {
		sb.WriteString(s.Text)
		sb.WriteString(" \n")
	}
	text := sb.String()
	d := Default()
	want := d.FindString(text)
	require.NotEmpty(t, want)
	assert.Equal(t, want, scanAll(t, newScanner(d, iotest.OneByteReader(strings.NewReader(text)), 4096)))
	assert.Equal(t, want, scanAll(t, d.NewScanner(iotest.DataErrReader(strings.NewReader(text)))))
}

func TestScannerBadInput(t *testing.T) {
	t.Parallel()
	d := Default()
	// binary, invalid UTF-8 and a line of 1 MiB: no crash, and the value
	// after them is found
	junk := make([]byte, 1<<20)
	for i := range junk {
		junk[i] = byte(i*7919 + i>>8)
	}
	text := append(append(junk, "\xff\xfe\xc3 card 4111 1111 1111 1111 "...), bytes.Repeat([]byte("a1-"), 400000)...)
	got := scanAll(t, d.NewScanner(bytes.NewReader(text)))
	assert.Equal(t, d.Find(text), got)

	// a read error stops the scan and is reported without the data
	sc := d.NewScanner(io.MultiReader(strings.NewReader("SSN 123-45-6789 "), iotest.ErrReader(errors.New("disk on fire"))))
	var spans []Span
	for sc.Scan() {
		spans = append(spans, sc.Span())
	}
	require.Error(t, sc.Err())
	assert.Contains(t, sc.Err().Error(), "disk on fire")
	assert.NotContains(t, sc.Err().Error(), "6789")
	assert.Len(t, spans, 1)
	assert.Equal(t, Span{}, sc.Span())
}
