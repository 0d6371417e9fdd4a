package detect

import (
	"errors"
	"fmt"
	"io"
)

// scannerBuffer is how much of a stream a Scanner holds: memory is
// bounded by it whatever the length of the stream or of its lines.
const scannerBuffer = 64 << 10

// Scanner finds personal data in a stream, reading it in pieces of
// bounded size: a value that straddles two reads is found as if the
// stream had been read whole, and Span offsets count from the start of
// the stream. Invalid UTF-8, binary data and lines of any length are read
// like any other bytes. Use it as bufio.Scanner:
//
//	sc := d.NewScanner(r)
//	for sc.Scan() {
//		sp := sc.Span()
//	}
//	if err := sc.Err(); err != nil { ... }
type Scanner struct {
	r     io.Reader
	w     window
	spans []Span
	i     int
	eof   bool
	err   error
}

// NewScanner returns a Scanner that reads r.
func (d *Detector) NewScanner(r io.Reader) *Scanner {
	return newScanner(d, r, scannerBuffer)
}

// newScanner is NewScanner with a buffer of size bytes, more than
// lookBehind+lookAhead; tests use small ones to put values across reads.
func newScanner(d *Detector, r io.Reader, size int) *Scanner {
	return &Scanner{r: r, w: newWindow(d, max(size, lookBehind+lookAhead+1))}
}

// Scan advances to the next span and reports whether there is one. It
// returns false at the end of the stream or on a read error (see Err).
func (s *Scanner) Scan() bool {
	for {
		if s.i+1 < len(s.spans) {
			s.i++
			return true
		}
		if s.eof || s.err != nil {
			s.spans, s.i = s.spans[:0], -1
			return false
		}
		s.spans, s.i = s.spans[:0], -1
		s.fill()
		limit := s.w.end() - lookAhead
		if s.eof {
			limit = s.w.end()
		}
		s.spans = s.w.scan(s.spans, limit)
	}
}

// fill keeps what the window needs and reads until the buffer is full or
// the stream ends.
func (s *Scanner) fill() {
	s.w.discard(s.w.keepFrom(s.w.next))
	for len(s.w.buf) < cap(s.w.buf) {
		n, err := s.r.Read(s.w.buf[len(s.w.buf):cap(s.w.buf)])
		s.w.buf = s.w.buf[:len(s.w.buf)+n]
		if errors.Is(err, io.EOF) {
			s.eof = true
			return
		}
		if err != nil {
			s.err = fmt.Errorf("detect: reading at offset %d: %w", s.w.end(), err)
			s.eof = true
			return
		}
		if n == 0 {
			return // a reader that returns nothing: try again on the next Scan
		}
	}
}

// Span returns the span Scan found.
func (s *Scanner) Span() Span {
	if s.i < 0 || s.i >= len(s.spans) {
		return Span{}
	}
	return s.spans[s.i]
}

// Err returns the read error that stopped Scan, if any; the end of the
// stream is not an error.
func (s *Scanner) Err() error { return s.err }
