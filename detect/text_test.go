package detect

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

func TestMaskRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k        Kind
		in, want string
	}{
		{Email, "alice.smith@example.com", "***@example.com"},
		{Card, "4111-1111-1111-1111", "****-****-****-1111"},
		{Card, "４１１１ １１１１ １１１１ １１１１", "**** **** **** １１１１"},
		{SSN, "123-45-6789", "***-**-6789"},
		{CNID, "11010519491231002X", "**************002X"},
		{IBAN, "GB82 WEST 1234 5698 7654 32", "GB** **** **** **** **54 32"},
		{Phone, "+86 138 1234 5678", "+** *** **** **78"},
		{IP, "203.0.113.7", "203.0.*.*"},
		{IP, "2001:db8::1", "2001:db8:*"},
		{DOB, "1985年3月12日", "****年*月**日"},
		{NINO, "AB 12 34 56 C", "** ** ** ** *"},
		{Passport, "E12345678", "*********"},
	} {
		assert.Equal(t, tc.want, Mask(tc.k, tc.in), "%s %q", tc.k, tc.in)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	in := "user bob@example.com paid with 4111 1111 1111 1111 from 203.0.113.7"
	assert.Equal(t, "user ***@example.com paid with **** **** **** 1111 from 203.0.*.*", Redact(in))
	clean := "nothing to see here 2024-05-01"
	assert.Equal(t, clean, Redact(clean))
	r := NewRedactor(nil, RedactorOptions{})
	assert.Equal(t, "tel *********78", string(r.Bytes([]byte("tel 13812345678"))))
}

// A tokenizer plugs in as a ReplaceFunc; when it fails, the value is
// masked, never let through.
func TestRedactorReplaceHook(t *testing.T) {
	t.Parallel()
	tok := NewRedactor(nil, RedactorOptions{Replace: func(k Kind, v string) (string, error) {
		if k == Card {
			return "", errors.New("tokenizer down")
		}
		return "<" + k.String() + ":" + string(rune('a'+len(v)%26)) + ">", nil
	}})
	assert.Equal(t, "mail <email:p> card ************1111", tok.String("mail bob@example.com card 4111111111111111"))
}

func TestWriterRedactsAcrossWrites(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	for _, s := range corpus.Generate(11, 600) {
		sb.WriteString(s.Text)
		sb.WriteString("\n")
	}
	text := sb.String()
	r := NewRedactor(nil, RedactorOptions{})
	want := r.String(text)
	require.NotEqual(t, text, want)
	for _, chunk := range []int{1, 7, 4096, len(text)} {
		var out bytes.Buffer
		w := r.NewWriter(&out)
		for i := 0; i < len(text); i += chunk {
			n, err := w.Write([]byte(text[i:min(len(text), i+chunk)]))
			require.NoError(t, err)
			require.Equal(t, min(len(text), i+chunk)-i, n)
		}
		require.NoError(t, w.Close())
		require.NoError(t, w.Close())
		assert.Equal(t, want, out.String(), "chunk %d", chunk)
	}
}

func TestWriterFlushesLinesAndBoundsItsBuffer(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := NewRedactor(nil, RedactorOptions{}).NewWriter(&out)
	_, err := w.Write([]byte("SSN 123-45-6789\npartial 4111 1111"))
	require.NoError(t, err)
	assert.Equal(t, "SSN ***-**-6789\n", out.String(), "a complete line goes through at once")
	_, err = w.Write([]byte(" 1111 1111 end"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "SSN ***-**-6789\npartial **** **** **** 1111 end", out.String())
	_, err = w.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrClosed)

	// a 1 MiB line without a newline is written through as it comes,
	// holding back a bounded tail
	out.Reset()
	w = NewRedactor(nil, RedactorOptions{}).NewWriter(&out)
	line := bytes.Repeat([]byte("abc "), 1<<18)
	_, err = w.Write(line)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, out.Len(), len(line)-writerBuffer-lookBehind-lookAhead)
	require.NoError(t, w.Close())
	assert.Equal(t, len(line), out.Len())

	// an error of the underlying writer is returned, and says nothing of the text
	w = NewRedactor(nil, RedactorOptions{}).NewWriter(errWriter{})
	_, err = w.Write([]byte("SSN 123-45-6789\n"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "6789")
	assert.Error(t, w.Close())
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestHandlerRedactsMessagesAttributesAndGroups(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), nil))
	log = log.With("client", "203.0.113.7").WithGroup("req")
	log.Info("login by bob@example.com",
		"phone", "13812345678",
		"count", 3,
		slog.Group("card", "number", "4111 1111 1111 1111", "brand", "visa"),
		"err", errors.New("no account for SSN 123-45-6789"),
	)
	out := buf.String()
	for _, leak := range []string{"bob@", "13812345678", "4111 1111 1111 1111", "123-45", "203.0.113.7"} {
		assert.NotContains(t, out, leak)
	}
	for _, kept := range []string{`"msg":"login by ***@example.com"`, `"phone":"*********78"`, `"count":3`,
		`"number":"**** **** **** 1111"`, `"brand":"visa"`, `"client":"203.0.*.*"`, `"err":"no account for SSN ***-**-6789"`} {
		assert.Contains(t, out, kept)
	}
	assert.True(t, log.Handler().Enabled(context.Background(), slog.LevelInfo))
}
