package detect

// The scanning loop: one pass over the bytes, a table lookup per byte,
// and a recognizer only where a byte can start a value. Log text is mostly
// lower-case words, spaces and punctuation, which the table skips.

// text is what the scanner reads: strings (log messages, attributes) and
// byte slices (buffers, files) alike, without copying one into the other.
type text interface{ ~string | ~[]byte }

// Trigger classes of the bytes that can start a value.
const (
	tNone  = iota
	tDigit // '0'..'9'
	tPlus  // '+', '(': a phone number's first character
	tUpper // 'A'..'Z': an IBAN, a NINO, a passport, a month name
	tAt    // '@': the middle of an e-mail address
	tColon // ':': inside an IPv6 address
	tWide  // 0xEF: the first byte of a full-width digit, '+' or '('
	tLine  // '\n': a new line (CSV rows find their header on the line above)
)

var triggers = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = tDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = tUpper
	}
	t['+'], t['('] = tPlus, tPlus
	t['@'] = tAt
	t[':'] = tColon
	t[0xEF] = tWide
	t['\n'] = tLine
	return t
}()

// Bounds of the bytes a decision reads around a candidate. A Scanner and
// a Writer keep this much text on either side of what they process, so
// that they find exactly what Find finds over the whole text.
const (
	lookBehind = 2*maxCSVLine + 64 // a CSV header and row, context before a value, back-scans
	lookAhead  = maxCSVLine + 512  // a CSV row, the longest value (an e-mail address of 254 bytes) and the context after it
)

// scan is the state of one scan over s.
type scan[T text] struct {
	d     *Detector
	s     T
	hint  string // a field name standing before all of s (FindField)
	limit int    // candidates start before limit
	lo    int    // the end of the last span: no span starts before it
	line  int    // the start of the current line
	above int    // the start of the line above, or -1
	out   []Span
	tok   numTok // the number being read, kept here to stay off the heap
}

// run scans candidates that start in [i, limit) and returns where the
// next scan must resume.
func (sc *scan[T]) run(i int) int {
	s, kinds := sc.s, sc.d.kinds
	for i < sc.limit {
		c := s[i]
		t := triggers[c]
		if t == tNone {
			i++
			continue
		}
		next := i + 1
		switch t {
		case tDigit, tPlus, tWide:
			next = sc.numeric(i)
		case tUpper:
			next = sc.upper(i)
		case tAt:
			if kinds.has(Email) {
				next = sc.email(i)
			}
		case tColon:
			if kinds.has(IP) {
				next = sc.ipv6(i)
			}
		case tLine:
			sc.above, sc.line = sc.line, i+1
		}
		i = max(next, i+1)
	}
	return i
}

// emit records a span when its kind is wanted and it is confident enough.
func (sc *scan[T]) emit(start, end int, k Kind, conf float64, rec string) bool {
	if !sc.d.kinds.has(k) || conf < sc.d.min || start < sc.lo {
		return false
	}
	sc.out = append(sc.out, Span{Start: start, End: end, Kind: k, Confidence: conf, Recognizer: rec})
	sc.lo = end
	return true
}

// ctx returns what the words around s[start:end] say about kind.
func (sc *scan[T]) ctx(start, end int, k Kind) polarity {
	if p := contextWords(sc.s, start, end, k, sc.hint); p != noContext {
		return p
	}
	if sc.above >= 0 && start >= sc.line {
		return csvHeader(sc.s, sc.above, sc.line, start, lexicons[k])
	}
	return noContext
}

// score applies context to a base confidence: a positive word raises it
// to at least withCtx, a negative one lowers it by 0.5.
func score(base, withCtx float64, p polarity) float64 {
	switch p {
	case positive:
		return max(base, withCtx)
	case negative:
		return max(0, base-0.5)
	}
	return base
}
