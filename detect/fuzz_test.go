package detect

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	sample,
	"１３８１２３４５６７８ 4111-1111-1111-1111 11010519491231002x",
	"::ffff:1.2.3.4 fe80::1%eth0 [::1]:80 1.2.3.4.5 v1.2.3.4",
	"a@b.c x@@y.com .a@b.io a..b@c.io @ @@ a@-b.com",
	"GB82 WEST 1234 5698 7654 32 AB 12 34 56 C QQ123456C",
	"id,passport_no\n7,E12345678\n8,\"x\"",
	"DOB 1985年3月12日 born 12 March 1985 birthday March 12, 1985 dob 1985-03-12T00:00:00Z",
	"\xff\xfe\xef\xbc\x91\xef\xbc 12345678901234567890123456789 +(1) (",
}

// checkSpans holds for every input: spans are in order, inside the text,
// do not overlap, start and end on character boundaries of valid text, and
// say nothing of the value.
func checkSpans(t *testing.T, text []byte, spans []Span) {
	t.Helper()
	prev := 0
	for _, sp := range spans {
		if sp.Start < prev || sp.End <= sp.Start || sp.End > len(text) {
			t.Fatalf("bad span %v after %d in %d bytes", sp, prev, len(text))
		}
		if sp.Confidence < DefaultMinConfidence || sp.Confidence > 1 || sp.Kind == 0 || sp.Recognizer == "" {
			t.Fatalf("bad span %v", sp)
		}
		if v := text[sp.Start:sp.End]; utf8.Valid(text) && !utf8.Valid(v) {
			t.Fatalf("span %v cuts a character", sp)
		}
		if v := string(text[sp.Start:sp.End]); len(v) >= 4 && strings.Contains(sp.String(), v) {
			t.Fatalf("span %v shows its value", sp)
		}
		prev = sp.End
	}
}

// FuzzFind guards the recognizers: no panic, well-formed spans, the same
// answer for a string and a byte slice, and masked output that keeps none
// of a span's digits but the ones Mask shows.
func FuzzFind(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	d := Default()
	r := NewRedactor(d, RedactorOptions{})
	f.Fuzz(func(t *testing.T, text []byte) {
		spans := d.Find(text)
		checkSpans(t, text, spans)
		if s := d.FindString(string(text)); len(s) != len(spans) {
			t.Fatalf("FindString found %d spans, Find %d", len(s), len(spans))
		}
		_ = r.Bytes(text)
		_ = d.FindField("dob", string(text))
	})
}

// FuzzScanner guards the streaming scanner: for any text and any buffer
// size, it finds what Find finds, and the Writer writes what String does.
func FuzzScanner(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint16(0), uint8(3))
	}
	d := Default()
	r := NewRedactor(d, RedactorOptions{})
	f.Fuzz(func(t *testing.T, text []byte, pad uint16, chunk uint8) {
		text = append(bytes.Repeat([]byte{' '}, int(pad%4096)), text...)
		want := d.Find(text)
		sc := newScanner(d, bytes.NewReader(text), lookBehind+lookAhead+1)
		var got []Span
		for sc.Scan() {
			got = append(got, sc.Span())
		}
		if len(got) != len(want) {
			t.Fatalf("Scanner found %d spans, Find %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("span %d: Scanner %v, Find %v", i, got[i], want[i])
			}
		}
		var out bytes.Buffer
		w := r.NewWriter(&out)
		step := int(chunk) + 1
		for i := 0; i < len(text); i += step {
			if _, err := w.Write(text[i:min(len(text), i+step)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != string(r.Bytes(text)) {
			t.Fatalf("Writer and Bytes differ")
		}
	})
}
