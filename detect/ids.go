package detect

import "github.com/piiguard/piiguard/internal/luhn"

// National identifiers written as digits: the Chinese resident identity
// number, the US Social Security number, the Japanese Individual Number,
// and passport numbers written as digits only.

// cnProvinces are the first two digits of the GB/T 2260 division codes:
// provinces, autonomous regions, municipalities, Taiwan, Hong Kong, Macau.
var cnProvinces = func() (p [100]bool) {
	for _, c := range []int{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83} {
		p[c] = true
	}
	return p
}()

// cnid validates c as an 18-character GB 11643-1999 resident identity
// number: a province code, a valid birth date, and the ISO 7064 MOD 11-2
// check character. The old 15-digit numbers (no check character) are not
// recognized.
func (sc *scan[T]) cnid(c *cand) (float64, bool) {
	d := c.d
	if len(d) != 18 {
		return 0, false
	}
	if !c.single() && !(c.sizes(6, 8, 4) && c.sameSep() && c.seps(" -")) {
		return 0, false
	}
	if !cnProvinces[int(d[0]-'0')*10+int(d[1]-'0')] {
		return 0, false
	}
	if !validDate(atoi(d[6:10]), atoi(d[10:12]), atoi(d[12:14])) {
		return 0, false
	}
	if !luhn.ValidGB11643(string(d)) {
		return 0, false
	}
	return score(0.9, 0.99, sc.ctx(c.start, c.end, CNID)), true
}

func atoi(d []byte) int {
	n := 0
	for _, c := range d {
		n = n*10 + int(c-'0')
	}
	return n
}

// validDate reports whether y-m-d is a date between 1900 and 2099.
func validDate(y, m, d int) bool {
	if y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// ssn validates c as a US Social Security number: never an area of 000,
// 666 or 900–999, a group of 00 or a serial of 0000 (the SSA's rules since
// randomization in 2011), nor a number the SSA voided after it was
// printed in advertising (078-05-1120, 219-09-9999). Written 123-45-6789 it
// is reported on its own; written with spaces or without separators it is
// nine digits like any other and needs context ("SSN").
func (sc *scan[T]) ssn(c *cand) (float64, bool) {
	d := c.d
	area, grp, serial := atoi(d[0:3]), atoi(d[3:5]), atoi(d[5:9])
	if area == 0 || area == 666 || area >= 900 || grp == 0 || serial == 0 {
		return 0, false
	}
	if string(d) == "078051120" || string(d) == "219099999" {
		return 0, false
	}
	var base float64
	switch {
	case c.sizes(3, 2, 4) && c.seps("-"):
		base = 0.7
	case c.sizes(3, 2, 4) && c.seps(" "), c.single():
		base = 0.3
	default:
		return 0, false
	}
	return score(base, 0.95, sc.ctx(c.start, c.end, SSN)), true
}

// myNumber validates c as a Japanese Individual Number: 12 digits whose
// last is the check digit of the Cabinet Office ordinance (weights 2–7
// then 2–6 from the right, mod 11). One random 12-digit number in eleven
// passes, so it is reported only with context ("マイナンバー", "My Number").
func (sc *scan[T]) myNumber(c *cand) (float64, bool) {
	if !c.single() && !(c.sizes(4, 4, 4) && c.sameSep() && c.seps(" -")) {
		return 0, false
	}
	if c.d[11] == 'X' || myNumberCheck(c.d[:11]) != c.d[11] {
		return 0, false
	}
	return score(0.3, 0.9, sc.ctx(c.start, c.end, MyNumber)), true
}

// myNumberCheck returns the check digit of the first 11 digits: P_n the
// n-th digit from the right, Q_n = n+1 for n ≤ 6 and n−5 for n ≥ 7,
// r = Σ P_n·Q_n mod 11, the digit 0 when r ≤ 1 and 11−r otherwise.
func myNumberCheck(first11 []byte) byte {
	sum := 0
	for n := 1; n <= 11; n++ {
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += int(first11[11-n]-'0') * q
	}
	if r := sum % 11; r > 1 {
		return byte('0' + 11 - r)
	}
	return '0'
}

// passportDigits reads a passport number of digits only (the United
// States, the United Kingdom: 9 digits; some others 8), which only
// context tells from any other number.
func (sc *scan[T]) passportDigits(c *cand) (float64, bool) {
	if n := len(c.d); n < 8 || n > 9 || c.d[n-1] == 'X' || !sc.d.kinds.has(Passport) {
		return 0, false
	}
	if sc.ctx(c.start, c.end, Passport) != positive {
		return 0, false
	}
	return 0.85, true
}
