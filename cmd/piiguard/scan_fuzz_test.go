package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/piiguard/piiguard/detect"
)

// FuzzTracker: whatever the bytes and however they are read, the tracker
// gives each span the value and line the whole text has there, and counts
// the bytes that are not UTF-8 as a decoder finds them.
func FuzzTracker(f *testing.F) {
	f.Add([]byte("mail lucy@example.com\ncard 4111 1111 1111 1111\n"), false)
	f.Add([]byte("caf\xe9\n\xe4\xb8\xad\xe6\x96\x87 13812345678\n\xe4\xb8"), true)
	f.Add([]byte(strings.Repeat("x", 70000)+" lucy@example.com\n+44 20 7946 0958"), true)
	f.Fuzz(func(t *testing.T, text []byte, oneByte bool) {
		r := bytes.NewReader(text)
		tr := newTracker(context.Background(), r, noProgress{})
		if oneByte {
			tr = newTracker(context.Background(), iotest.OneByteReader(r), noProgress{})
		}
		sc := detect.Default().NewScanner(tr)
		for sc.Scan() {
			sp := sc.Span()
			line, v, ok := tr.at(sp)
			if !ok {
				t.Fatalf("span %v not held", sp)
			}
			if !bytes.Equal(v, text[sp.Start:sp.End]) {
				t.Fatalf("span %v: value differs", sp)
			}
			if want := bytes.Count(text[:sp.Start], []byte{'\n'}) + 1; line != want {
				t.Fatalf("span %v: line %d, want %d", sp, line, want)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		tr.finish(false)
		invalid, first := 0, 0
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRune(text[i:])
			if r == utf8.RuneError && size == 1 {
				if invalid == 0 {
					first = bytes.Count(text[:i], []byte{'\n'}) + 1
				}
				invalid++
			}
			i += size
		}
		if tr.invalid != invalid || (invalid > 0 && tr.invalidLine != first) {
			t.Fatalf("invalid UTF-8: %d on line %d, want %d on line %d", tr.invalid, tr.invalidLine, invalid, first)
		}
		if tr.n != int64(len(text)) {
			t.Fatalf("read %d of %d bytes", tr.n, len(text))
		}
	})
}
