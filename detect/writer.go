package detect

import (
	"bytes"
	"fmt"
	"io"
)

// writerBuffer bounds what a Writer holds back: at most this much text
// waits for the end of its line.
const writerBuffer = 64 << 10

// Writer is an io.Writer that redacts what passes through it to another
// writer. It writes each line through as soon as the line is complete,
// holds back at most 64 KiB of a line still being written, and writes the
// rest on Close. A value split across Write calls is redacted as if it
// had come in one. A Writer is not safe for concurrent use.
type Writer struct {
	r      *Redactor
	dst    io.Writer
	w      window
	done   int // bytes written to dst, as an offset of the input
	spans  []Span
	out    []byte
	closed bool
	err    error
}

// NewWriter returns a Writer that redacts with r and writes to w.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	return &Writer{r: r, dst: w, w: newWindow(r.d, writerBuffer+lookBehind+lookAhead)}
}

// Write redacts p into the underlying writer, holding back the end of an
// unfinished line. It returns len(p) once p is accepted; an error of the
// underlying writer is returned by this or a later Write, or by Close,
// and after it nothing more is written.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("detect: writer %w", ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		room := cap(w.w.buf) - len(w.w.buf)
		if room == 0 {
			w.process(w.w.end()-lookAhead, w.w.end()-lookAhead)
			if w.err != nil {
				return 0, w.err
			}
			continue
		}
		k := min(room, len(p))
		w.w.buf = append(w.w.buf, p[:k]...)
		p = p[k:]
		if nl := bytes.LastIndexByte(w.w.buf[max(0, w.done-w.w.base):], '\n'); nl >= 0 {
			// every decision about a value before a line's end reads
			// nothing past it
			end := max(0, w.done-w.w.base) + nl + 1 + w.w.base
			w.process(end, end)
		}
		if w.err != nil {
			return 0, w.err
		}
	}
	return n, nil
}

// process scans the candidates before limit and writes the text up to
// upTo (or past the last span found) to dst.
func (w *Writer) process(limit, upTo int) {
	w.spans = w.w.scan(w.spans[:0], limit)
	for _, sp := range w.spans {
		upTo = max(upTo, sp.End)
	}
	upTo = max(upTo, w.done)
	w.out = appendRedacted(w.r, w.out[:0], w.w.buf[w.done-w.w.base:upTo-w.w.base], w.done, w.spans)
	if _, err := w.dst.Write(w.out); err != nil {
		w.err = fmt.Errorf("detect: writing redacted text: %w", err)
		return
	}
	w.done = upTo
	w.w.discard(w.w.keepFrom(w.done))
}

// Close redacts and writes what is held back. It does not close the
// underlying writer. Closing twice is harmless.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.process(w.w.end(), w.w.end())
	}
	return w.err
}
