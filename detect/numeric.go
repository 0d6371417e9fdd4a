package detect

// Numbers: a run of digit groups (ASCII or full-width digits) joined by
// single separators, read once and then offered to every numeric
// recognizer. Spaces split the run into chunks that may hold different
// values ("phone 138 1234 5678 10 times"); the longest run of chunks that
// some recognizer accepts wins.

const (
	maxDigits     = 24  // more digits than any numeric kind holds
	maxGroups     = 12  // digit groups in one run
	maxTokenBytes = 128 // a 19-digit card in full-width digits and ideographic spaces is 69
)

// group is one run of digits.
type group struct {
	start, end int  // bytes: the first digit, past the last (or past ')')
	d0, d1     int  // digits: tok.dig[d0:d1]
	sep        byte // the separator before it: 0 (first), ' ', '-', '.', '/', ')'
	paren      bool // written in parentheses: "(212)"
}

// numTok is a run of digit groups.
type numTok struct {
	start, end int
	plus       bool // starts with '+'
	leftOK     bool // nothing glued on before it (a letter, "x-", "v1.")
	rightOK    bool // nothing glued on after it
	isoT       bool // followed by 'T' and a digit: an ISO 8601 date-time
	dig        [maxDigits]byte
	nd         int
	groups     [maxGroups]group
	ng         int
}

// digitAt returns the ASCII value of an ASCII or full-width digit at s[i]
// and its length in bytes, or 0, 0.
func digitAt[T text](s T, i int) (byte, int) {
	if i >= len(s) {
		return 0, 0
	}
	if c := s[i]; c >= '0' && c <= '9' {
		return c, 1
	}
	if s[i] == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99 {
		return '0' + s[i+2] - 0x90, 3 // U+FF10..U+FF19
	}
	return 0, 0
}

// sepAt returns the separator at s[i] folded to ASCII (' ', '-', '.', '/')
// and its length, or 0, 0. Full-width hyphens and stops, the ideographic
// space and the no-break space count.
func sepAt[T text](s T, i int) (byte, int) {
	if i >= len(s) {
		return 0, 0
	}
	switch c := s[i]; c {
	case ' ', '-', '.', '/':
		return c, 1
	case 0xC2:
		if i+1 < len(s) && s[i+1] == 0xA0 {
			return ' ', 2
		}
	case 0xE3:
		if i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x80 {
			return ' ', 3
		}
	case 0xEF:
		if i+2 < len(s) && s[i+1] == 0xBC {
			switch s[i+2] {
			case 0x8D:
				return '-', 3
			case 0x8E:
				return '.', 3
			case 0x8F:
				return '/', 3
			}
		}
	}
	return 0, 0
}

// charAt matches an ASCII punctuation character or its full-width form
// (U+FF01..U+FF5E) at s[i] and returns its length, or 0.
func charAt[T text](s T, i int, c byte) int {
	if i >= len(s) {
		return 0
	}
	if s[i] == c {
		return 1
	}
	w := int(c) - 0x21 + 0xFF01 // full-width form
	if i+2 < len(s) && s[i] == 0xEF && s[i+1] == byte(0x80|(w>>6)&0x3F) && s[i+2] == byte(0x80|w&0x3F) {
		return 3
	}
	return 0
}

// glued reports whether c joins a number to what is beside it.
func glued(c byte) bool { return isASCIIAlnum(c) || c == '_' || c == '@' }

// leftFree reports whether a value may start at s[i]: no letter, digit or
// '_' before it, and no "x-" or "v1." chain it continues.
func leftFree[T text](s T, i int) bool {
	if i == 0 {
		return true
	}
	p := s[i-1]
	if glued(p) {
		return false
	}
	if (p == '-' || p == '.' || p == '/') && i >= 2 && isASCIIAlnum(s[i-2]) {
		return false
	}
	return true
}

// rightFree is leftFree for the end of a value at s[e].
func rightFree[T text](s T, e int) bool {
	if e >= len(s) {
		return true
	}
	n := s[e]
	if glued(n) {
		return false
	}
	if (n == '-' || n == '.' || n == '/') && e+1 < len(s) && isASCIIAlnum(s[e+1]) {
		return false
	}
	return true
}

// readNumber reads the run of digit groups at s[i], where a value may
// start (leftFree), into t and returns false when there is none.
func readNumber[T text](s T, i int, t *numTok) bool {
	// reset what is read below; dig and groups are written before read
	t.start, t.end, t.plus, t.rightOK, t.isoT, t.nd, t.ng = i, i, false, false, false, 0, 0
	t.leftOK = true // the caller checked leftFree
	j := i
	if n := charAt(s, j, '+'); n > 0 {
		if _, dn := digitAt(s, j+n); dn == 0 {
			return false
		}
		t.plus = true
		j += n
	}
	var sep byte
	for t.ng < maxGroups && j-i < maxTokenBytes {
		g := group{sep: sep, d0: t.nd, start: j}
		pn := charAt(s, j, '(')
		if pn > 0 {
			if _, dn := digitAt(s, j+pn); dn == 0 {
				break
			}
			g.paren = true
			j += pn
		}
		for {
			d, n := digitAt(s, j)
			if n == 0 {
				break
			}
			if t.nd == maxDigits {
				t.rightOK = false
				t.end = j
				return t.ng > 0
			}
			t.dig[t.nd] = d
			t.nd++
			j += n
		}
		g.d1 = t.nd
		if g.d1 == g.d0 {
			break // '(' not followed by digits was rejected above; this is the end
		}
		if g.paren {
			n := charAt(s, j, ')')
			if n == 0 {
				t.nd = g.d0
				break // "(123" is not a group: stop before it
			}
			j += n
		}
		g.end = j
		t.groups[t.ng] = g
		t.ng++
		t.end = j
		// the separator to the next group, if a group follows
		if g.paren {
			k := j
			if s2, n := sepAt(s, k); s2 == ' ' || s2 == '-' {
				k += n
			}
			if _, dn := digitAt(s, k); dn > 0 {
				sep, j = ')', k
				continue
			}
			break
		}
		c, n := sepAt(s, j)
		if n == 0 {
			break
		}
		if _, dn := digitAt(s, j+n); dn > 0 {
			sep, j = c, j+n
			continue
		}
		if c == ' ' && charAt(s, j+n, '(') > 0 {
			sep, j = c, j+n
			continue
		}
		break
	}
	if t.ng == 0 {
		return false
	}
	// the check character of a resident ID: 17 digits and an X
	if t.nd == 17 && t.end < len(s) {
		x, n := s[t.end], 1
		if x == 0xEF && t.end+2 < len(s) && (s[t.end+1] == 0xBC && s[t.end+2] == 0xB8 || s[t.end+1] == 0xBD && s[t.end+2] == 0x98) {
			x, n = 'X', 3 // Ｘ ｘ
		}
		if x == 'X' || x == 'x' {
			if rightFree(s, t.end+n) {
				t.dig[t.nd] = 'X'
				t.nd++
				t.end += n
				t.groups[t.ng-1].d1++
				t.groups[t.ng-1].end = t.end
			}
		}
	}
	t.rightOK = rightFree(s, t.end) && j-i < maxTokenBytes && t.ng < maxGroups
	// a date stored as a date-time: only midnight, as birth dates are
	// stored, is read as one; every other "T12:34" is a log's timestamp,
	// and skipping them saves a context search on every log line (14% of
	// BenchmarkFind/mixed-logs)
	if !t.rightOK && hasAt(s, t.end, "T00:00") {
		t.isoT = true
	}
	if t.ng == maxGroups {
		t.rightOK = false
	}
	return true
}

// cand is a run of groups [g0, g1) of a numTok offered to the recognizers.
type cand struct {
	t          *numTok
	g0, g1     int
	start, end int    // bytes
	d          []byte // the digits, ASCII
	plus       bool
}

// sizes reports whether the groups of c have exactly these digit counts.
func (c *cand) sizes(n ...int) bool {
	if c.g1-c.g0 != len(n) {
		return false
	}
	for i, want := range n {
		g := &c.t.groups[c.g0+i]
		if g.d1-g.d0 != want {
			return false
		}
	}
	return true
}

// seps reports whether every separator inside c is one of allowed.
func (c *cand) seps(allowed string) bool {
	for i := c.g0 + 1; i < c.g1; i++ {
		ok := false
		for j := 0; j < len(allowed); j++ {
			if c.t.groups[i].sep == allowed[j] {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// sameSep reports whether c is one group, or groups joined by one
// separator throughout.
func (c *cand) sameSep() bool {
	for i := c.g0 + 2; i < c.g1; i++ {
		if c.t.groups[i].sep != c.t.groups[c.g0+1].sep {
			return false
		}
	}
	return true
}

func (c *cand) single() bool { return c.g1-c.g0 == 1 }

// numeric reads the number at s[i], offers its runs of chunks to the
// recognizers and returns where scanning resumes.
func (sc *scan[T]) numeric(i int) int {
	s := sc.s
	if s[i] == 0xEF {
		if _, n := digitAt(s, i); n == 0 && charAt(s, i, '+') == 0 && charAt(s, i, '(') == 0 {
			return i + 1
		}
	}
	if !leftFree(s, i) {
		return i + 1
	}
	if e, ok := sc.wordDate(i); ok {
		return e
	}
	t := &sc.tok
	if !readNumber(s, i, t) {
		return i + 1
	}
	// chunks: runs of groups not split by a space
	var chunk [maxGroups + 1]int
	nc := 0
	for g := 0; g < t.ng; g++ {
		if g == 0 || t.groups[g].sep == ' ' {
			chunk[nc] = g
			nc++
		}
	}
	chunk[nc] = t.ng
	for k := 0; k < nc; {
		found := false
		for m := nc; m > k; m-- {
			g0, g1 := chunk[k], chunk[m]
			nd := t.groups[g1-1].d1 - t.groups[g0].d0
			if nd > 19 || (k == 0 && !t.leftOK) || (m == nc && !t.rightOK && !t.isoT) {
				continue
			}
			c := cand{t: t, g0: g0, g1: g1, start: t.groups[g0].start, end: t.groups[g1-1].end,
				d: t.dig[t.groups[g0].d0:t.groups[g1-1].d1], plus: k == 0 && t.plus}
			if c.plus {
				c.start = t.start
			}
			if m == nc && t.isoT {
				if conf, ok := sc.numericDate(&c); ok {
					found = sc.emit(c.start, c.end, DOB, conf, "dob/context")
				}
			} else {
				found = sc.classify(&c)
			}
			if found {
				k = m
				break
			}
		}
		if !found {
			k++
		}
	}
	return t.end
}

// classify offers c to the numeric recognizers and emits the most
// confident span; it reports whether one was emitted.
func (sc *scan[T]) classify(c *cand) bool {
	type best struct {
		k    Kind
		conf float64
		rec  string
	}
	var b best
	try := func(k Kind, conf float64, rec string) {
		if conf > b.conf && sc.d.kinds.has(k) {
			b = best{k, conf, rec}
		}
	}
	n := len(c.d)
	if c.plus {
		if conf, ok := sc.phoneIntl(c); ok {
			try(Phone, conf, "phone/e164")
		}
	} else {
		if n == 18 {
			if conf, ok := sc.cnid(c); ok {
				try(CNID, conf, "cnid/gb11643")
			}
		}
		if n >= 12 && n <= 19 {
			if conf, ok := sc.card(c); ok {
				try(Card, conf, "card/luhn")
			}
		}
		if n == 12 {
			if conf, ok := sc.myNumber(c); ok {
				try(MyNumber, conf, "mynumber/check")
			}
		}
		if n == 9 {
			if conf, ok := sc.ssn(c); ok {
				try(SSN, conf, "ssn/ssa")
			}
		}
		if n >= 6 && n <= 10 && c.g1-c.g0 == 1 {
			if conf, ok := sc.passportDigits(c); ok {
				try(Passport, conf, "passport/context")
			}
		}
		if n >= 4 && n <= 12 && c.g1-c.g0 == 4 && c.seps(".") {
			if conf, ok := sc.ipv4(c); ok {
				try(IP, conf, "ip/v4")
			}
		}
		if n >= 7 && n <= 12 {
			if conf, ok := sc.phoneNational(c); ok {
				try(Phone, conf, "phone/national")
			}
		}
		if n >= 6 && n <= 8 && sc.d.kinds.has(DOB) {
			if conf, ok := sc.numericDate(c); ok {
				try(DOB, conf, "dob/context")
			}
		}
	}
	if b.k == 0 {
		return false
	}
	return sc.emit(c.start, c.end, b.k, b.conf, b.rec)
}
