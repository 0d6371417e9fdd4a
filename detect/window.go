package detect

// window is the scanning state a Scanner and a Writer carry across
// buffers: the text kept (lookBehind bytes before the next candidate,
// and what is not yet scanned) and where the scan stands, in absolute
// offsets. Because every decision reads at most lookBehind bytes before a
// candidate and lookAhead after it, scanning a stream window by window
// finds exactly what Find finds over the whole text.
type window struct {
	d     *Detector
	buf   []byte // the text kept; buf[0] is at offset base
	base  int
	next  int // where the scan resumes
	lo    int // the end of the last span
	line  int // the start of the current line
	above int // the start of the line above, -1 if unknown
}

func newWindow(d *Detector, size int) window {
	return window{d: d, buf: make([]byte, 0, size), above: -1}
}

// scan finds the spans of candidates that start before limit (an
// absolute offset, at most the end of buf) and appends them to dst in
// absolute offsets.
func (w *window) scan(dst []Span, limit int) []Span {
	if limit <= w.next {
		return dst
	}
	sc := scan[[]byte]{d: w.d, s: w.buf, limit: limit - w.base, lo: max(0, w.lo-w.base),
		line: w.line - w.base, above: w.above - w.base, out: dst}
	if w.above < w.base {
		sc.above = -1
	}
	if w.line < w.base {
		sc.line, sc.above = 0, -1
	}
	from := len(dst)
	next := sc.run(w.next - w.base)
	for i := from; i < len(sc.out); i++ {
		sc.out[i].Start += w.base
		sc.out[i].End += w.base
	}
	w.next = next + w.base
	w.lo = max(w.lo, sc.lo+w.base)
	w.line = sc.line + w.base
	if sc.above >= 0 {
		w.above = sc.above + w.base
	}
	return sc.out
}

// keepFrom is the first offset the window must keep: what is not scanned
// yet, what the caller still needs (from), and lookBehind bytes of
// context before the next candidate.
func (w *window) keepFrom(from int) int {
	return max(w.base, min(from, w.next-lookBehind))
}

// discard drops the bytes before keep, an absolute offset.
func (w *window) discard(keep int) {
	if keep <= w.base {
		return
	}
	n := copy(w.buf, w.buf[keep-w.base:])
	w.buf = w.buf[:n]
	w.base = keep
}

// end is the offset past the last byte kept.
func (w *window) end() int { return w.base + len(w.buf) }
