package errtext

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestSafe(t *testing.T) {
	assert.Equal(t, "key  is disabled", Safe("key\n\tis disabled"))
	assert.Equal(t, "a\uFFFDb", Safe("a\xffb"))
	assert.Equal(t, "del ", Safe("del\x7f"))

	long := strings.Repeat("é", 400) // 2 bytes a character: byte 300 starts one
	got := Safe(long)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.LessOrEqual(t, len(got), MaxLen+len("…"))

	odd := "x" + strings.Repeat("é", 400) // byte 300 is inside a character
	got = Safe(odd)
	assert.True(t, utf8.ValidString(got), "never cut inside a character")
	assert.Equal(t, MaxLen-1+len("…"), len(got))

	assert.Equal(t, strings.Repeat("a", MaxLen), Safe(strings.Repeat("a", MaxLen)), "exactly MaxLen is kept whole")
}

func TestRootCause(t *testing.T) {
	base := errors.New("connection refused")
	assert.Same(t, base, RootCause(fmt.Errorf("dial: %w", fmt.Errorf("tcp: %w", base))))
	assert.Same(t, base, RootCause(base))
}

func TestTaggedWrapsTheSentinelWithoutSayingIt(t *testing.T) {
	sentinel := errors.New("invalid argument")
	cause := errors.New("no such file or directory")
	err := Tagged(sentinel, "open %q: %w", "x", cause)
	assert.Equal(t, `open "x": no such file or directory`, err.Error())
	assert.ErrorIs(t, err, sentinel)
	assert.ErrorIs(t, err, cause, "what the format wraps stays wrapped")
	assert.ErrorIs(t, fmt.Errorf("outer: %w", err), sentinel)
}

func TestSays(t *testing.T) {
	assert.True(t, Says(errors.New("sql: database is closed"), errors.New("closed")))
	assert.True(t, Says(errors.New("ERROR: Permission denied for table t"), errors.New("permission denied")))
	assert.False(t, Says(errors.New("sql: no rows in result set"), errors.New("not found")))
}

func FuzzSafe(f *testing.F) {
	f.Add("plain")
	f.Add("a\xffb\n" + strings.Repeat("ü", 200))
	f.Fuzz(func(t *testing.T, s string) {
		got := Safe(s)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\t\x00") || len(got) > MaxLen+len("…") {
			t.Fatalf("Safe(%q) = %q", s, got)
		}
	})
}
