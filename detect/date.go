package detect

// Dates of birth: a valid date between 1900 and 2099 written as
// 1985-03-12, 1985/03/12, 12/03/1985, 03/12/1985, 12.03.1985, 19850312,
// 1985年3月12日, 12 March 1985 or March 12, 1985, reported only when a
// context word says it is a birth date ("DOB", "born", "出生日期",
// "生日"). Every log line has a date; without that word none is one.

// numericDate validates c as a date of birth written with digits.
func (sc *scan[T]) numericDate(c *cand) (float64, bool) {
	if !sc.d.kinds.has(DOB) {
		return 0, false
	}
	ok := false
	switch {
	case c.single() && len(c.d) == 8:
		ok = validDate(atoi(c.d[:4]), atoi(c.d[4:6]), atoi(c.d[6:]))
	case c.g1-c.g0 == 3 && c.sameSep() && c.seps("-/."):
		g := c.t.groups[c.g0 : c.g0+3]
		a, b, y := c.t.dig[g[0].d0:g[0].d1], c.t.dig[g[1].d0:g[1].d1], c.t.dig[g[2].d0:g[2].d1]
		switch {
		case len(a) == 4 && len(b) <= 2 && len(y) <= 2:
			ok = validDate(atoi(a), atoi(b), atoi(y))
		case len(a) <= 2 && len(b) <= 2 && len(y) == 4:
			ok = validDate(atoi(y), atoi(b), atoi(a)) || validDate(atoi(y), atoi(a), atoi(b))
		}
	}
	if !ok || sc.ctx(c.start, c.end, DOB) != positive {
		return 0, false
	}
	return 0.9, true
}

// readInt reads 1 to max ASCII or full-width digits at s[j].
func readInt[T text](s T, j, maxDigits int) (v, next int) {
	n := 0
	for n < maxDigits {
		d, w := digitAt(s, j)
		if w == 0 {
			break
		}
		v = v*10 + int(d-'0')
		j += w
		n++
	}
	if n == 0 {
		return -1, j
	}
	return v, j
}

// hasAt reports whether s[j:] starts with w.
func hasAt[T text](s T, j int, w string) bool {
	if j+len(w) > len(s) {
		return false
	}
	for k := 0; k < len(w); k++ {
		if s[j+k] != w[k] {
			return false
		}
	}
	return true
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// monthAt reads a month's name, full or in three letters (and "Sept"), at
// s[j] and returns its number and the end, or 0.
func monthAt[T text](s T, j int) (int, int) {
	if j >= len(s) {
		return 0, 0
	}
	switch s[j] | 0x20 { // the first letters of the months: most words stop here
	case 'j', 'f', 'm', 'a', 's', 'o', 'n', 'd':
	default:
		return 0, 0
	}
	var w [9]byte
	n := 0
	for n < len(w) && j+n < len(s) && s[j+n]|0x20 >= 'a' && s[j+n]|0x20 <= 'z' {
		w[n] = s[j+n] | 0x20
		n++
	}
	if n < 3 || j+n < len(s) && isASCIIAlnum(s[j+n]) {
		return 0, 0
	}
	word := string(w[:n])
	for m, name := range monthNames {
		if word == name || word == name[:3] || m == 8 && word == "sept" {
			end := j + n
			if n < len(name) && end < len(s) && s[end] == '.' {
				end++
			}
			return m + 1, end
		}
	}
	return 0, 0
}

// wordDate reads, at the digit s[i], a date written with words:
// "1985年3月12日" or "12 March 1985". It returns its end and true when the
// shape matched, whether or not it was a date of birth.
func (sc *scan[T]) wordDate(i int) (int, bool) {
	s := sc.s
	if !sc.d.kinds.has(DOB) {
		return 0, false
	}
	v, j := readInt(s, i, 4)
	if v < 0 {
		return 0, false
	}
	y, m, d, end := 0, 0, 0, 0
	switch {
	case j-i >= 4 && hasAt(s, j, "年"):
		var k int
		if m, k = readInt(s, j+len("年"), 2); m < 0 || !hasAt(s, k, "月") {
			return 0, false
		}
		if d, k = readInt(s, k+len("月"), 2); d < 0 {
			return 0, false
		}
		switch {
		case hasAt(s, k, "日"):
			end = k + len("日")
		case hasAt(s, k, "号"):
			end = k + len("号")
		default:
			return 0, false
		}
		y = v
	case v > 0 && v <= 31 && j-i <= 2 && j+1 < len(s) && s[j] == ' ' && s[j+1]|0x20 >= 'a' && s[j+1]|0x20 <= 'z':
		var k int
		if m, k = monthAt(s, j+1); m == 0 || k >= len(s) || s[k] != ' ' {
			return 0, false
		}
		if y, end = readInt(s, k+1, 4); end-(k+1) != 4 {
			return 0, false
		}
		d = v
	default:
		return 0, false
	}
	if !rightFree(s, end) {
		return 0, false
	}
	if validDate(y, m, d) && sc.ctx(i, end, DOB) == positive {
		sc.emit(i, end, DOB, 0.9, "dob/context")
	}
	return end, true
}

// monthDate reads "March 12, 1985" at the capital s[i].
func (sc *scan[T]) monthDate(i int) int {
	s := sc.s
	if !sc.d.kinds.has(DOB) {
		return 0
	}
	m, k := monthAt(s, i)
	if m == 0 || k >= len(s) || s[k] != ' ' {
		return 0
	}
	d, k := readInt(s, k+1, 2)
	if d < 0 {
		return 0
	}
	if k < len(s) && s[k] == ',' {
		k++
	}
	if k >= len(s) || s[k] != ' ' {
		return 0
	}
	y, end := readInt(s, k+1, 4)
	if end-(k+1) != 4 || !rightFree(s, end) {
		return 0
	}
	if validDate(y, m, d) && sc.ctx(i, end, DOB) == positive && sc.emit(i, end, DOB, 0.9, "dob/context") {
		return end
	}
	return 0
}
