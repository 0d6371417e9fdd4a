package detect

// Values that start with an upper-case letter: IBANs, UK National
// Insurance numbers, passport numbers with a letter prefix, and dates
// that start with a month's name. Upper-case words are common in logs
// ("INFO", "GET"); each is rejected on its second or third byte.

// ibanLengths are the IBAN lengths of the countries in the ISO 13616
// registry.
var ibanLengths = map[[2]byte]int{
	{'A', 'D'}: 24, {'A', 'E'}: 23, {'A', 'L'}: 28, {'A', 'T'}: 20, {'A', 'Z'}: 28, {'B', 'A'}: 20, {'B', 'E'}: 16,
	{'B', 'G'}: 22, {'B', 'H'}: 22, {'B', 'I'}: 27, {'B', 'R'}: 29, {'B', 'Y'}: 28, {'C', 'H'}: 21, {'C', 'R'}: 22,
	{'C', 'Y'}: 28, {'C', 'Z'}: 24, {'D', 'E'}: 22, {'D', 'J'}: 27, {'D', 'K'}: 18, {'D', 'O'}: 28, {'E', 'E'}: 20,
	{'E', 'G'}: 29, {'E', 'S'}: 24, {'F', 'I'}: 18, {'F', 'K'}: 18, {'F', 'O'}: 18, {'F', 'R'}: 27, {'G', 'B'}: 22,
	{'G', 'E'}: 22, {'G', 'I'}: 23, {'G', 'L'}: 18, {'G', 'R'}: 27, {'G', 'T'}: 28, {'H', 'R'}: 21, {'H', 'U'}: 28,
	{'I', 'E'}: 22, {'I', 'L'}: 23, {'I', 'Q'}: 23, {'I', 'S'}: 26, {'I', 'T'}: 27, {'J', 'O'}: 30, {'K', 'W'}: 30,
	{'K', 'Z'}: 20, {'L', 'B'}: 28, {'L', 'C'}: 32, {'L', 'I'}: 21, {'L', 'T'}: 20, {'L', 'U'}: 20, {'L', 'V'}: 21,
	{'L', 'Y'}: 25, {'M', 'C'}: 27, {'M', 'D'}: 24, {'M', 'E'}: 22, {'M', 'K'}: 19, {'M', 'N'}: 20, {'M', 'R'}: 27,
	{'M', 'T'}: 31, {'M', 'U'}: 30, {'N', 'I'}: 28, {'N', 'L'}: 18, {'N', 'O'}: 15, {'O', 'M'}: 23, {'P', 'K'}: 24,
	{'P', 'L'}: 28, {'P', 'S'}: 29, {'P', 'T'}: 25, {'Q', 'A'}: 29, {'R', 'O'}: 24, {'R', 'S'}: 22, {'R', 'U'}: 33,
	{'S', 'A'}: 24, {'S', 'C'}: 31, {'S', 'D'}: 18, {'S', 'E'}: 24, {'S', 'I'}: 19, {'S', 'K'}: 24, {'S', 'M'}: 27,
	{'S', 'O'}: 23, {'S', 'T'}: 25, {'S', 'V'}: 28, {'T', 'L'}: 23, {'T', 'N'}: 24, {'T', 'R'}: 26, {'U', 'A'}: 29,
	{'V', 'A'}: 22, {'V', 'G'}: 24, {'X', 'K'}: 20, {'Y', 'E'}: 30,
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// upper tries the letter-led recognizers at s[i].
func (sc *scan[T]) upper(i int) int {
	s := sc.s
	if i+2 >= len(s) || !leftFree(s, i) {
		return i + 1
	}
	switch c1 := s[i+1]; {
	case isUpper(c1):
		if e := sc.iban(i); e > 0 {
			return e
		}
		if e := sc.nino(i); e > 0 {
			return e
		}
		if e := sc.passportAlpha(i, 2); e > 0 {
			return e
		}
	case isDigit(c1):
		if e := sc.passportAlpha(i, 1); e > 0 {
			return e
		}
	case c1 >= 'a' && c1 <= 'z':
		if e := sc.monthDate(i); e > 0 {
			return e
		}
	}
	return i + 1
}

// iban reads an IBAN at s[i], compact ("DE89370400440532013000") or in
// the paper format of groups of four ("DE89 3704 0044 0532 0130 00"), and
// returns its end when its length is its country's and its mod-97
// remainder is 1.
func (sc *scan[T]) iban(i int) int {
	s := sc.s
	if !sc.d.kinds.has(IBAN) || i+4 > len(s) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return 0
	}
	want := ibanLengths[[2]byte{s[i], s[i+1]}]
	if want == 0 {
		return 0
	}
	// the remainder of BBAN + country + check digits, computed as read:
	// the first four characters are taken at the end.
	rem, n, j := 0, 4, i+4
	spaced := false
	for n < want && j < len(s) {
		c := s[j]
		if c == ' ' && n%4 == 0 && (n == 4 || spaced) && j+1 < len(s) && (isDigit(s[j+1]) || isUpper(s[j+1])) {
			spaced = true
			j++
			continue
		}
		if n == 4 && c == ' ' {
			spaced = true
			j++
			continue
		}
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return 0
		}
		n++
		j++
	}
	if n != want || !rightFree(s, j) {
		return 0
	}
	if spaced && (n-4)%4 != 0 && s[j-1-(n-4)%4] != ' ' {
		return 0 // the last group of the paper format must follow a space
	}
	rem = (rem*100 + int(s[i]-'A'+10)) % 97
	rem = (rem*100 + int(s[i+1]-'A'+10)) % 97
	rem = (rem*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')) % 97
	if rem != 1 {
		return 0
	}
	if sc.emit(i, j, IBAN, score(0.95, 0.99, sc.ctx(i, j, IBAN)), "iban/mod97") {
		return j
	}
	return 0
}

// ninoPrefix reports whether a, b start a NINO HMRC issues: neither
// letter D, F, I, Q, U or V, the second not O, and not BG, GB, KN, NK, NT,
// TN or ZZ (HMRC's National Insurance Manual, NIM39110).
func ninoPrefix(a, b byte) bool {
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

// nino reads a National Insurance number, "AB123456C" or "AB 12 34 56 C".
// Without its final letter (some forms drop it) it needs context.
func (sc *scan[T]) nino(i int) int {
	s := sc.s
	if !sc.d.kinds.has(NINO) || !ninoPrefix(s[i], s[i+1]) {
		return 0
	}
	j := i + 2
	spaced := j < len(s) && s[j] == ' '
	for k := 0; k < 3; k++ {
		if spaced {
			if j >= len(s) || s[j] != ' ' {
				return 0
			}
			j++
		}
		if j+2 > len(s) || !isDigit(s[j]) || !isDigit(s[j+1]) {
			return 0
		}
		j += 2
	}
	base := 0.4
	if j < len(s) && s[j] >= 'A' && s[j] <= 'D' {
		j++
		base = 0.85
	} else if spaced && j+1 < len(s) && s[j] == ' ' && s[j+1] >= 'A' && s[j+1] <= 'D' && rightFree(s, j+2) {
		j += 2
		base = 0.85
	}
	if !rightFree(s, j) {
		return 0
	}
	if sc.emit(i, j, NINO, score(base, 0.97, sc.ctx(i, j, NINO)), "nino/hmrc") {
		return j
	}
	return 0
}

// passportAlpha reads a passport number of letters letters and 6 to 9
// digits ("E12345678", "EA1234567", "TK1234567"), reported only with
// context.
func (sc *scan[T]) passportAlpha(i, letters int) int {
	s := sc.s
	if !sc.d.kinds.has(Passport) {
		return 0
	}
	j := i + letters
	for j < len(s) && isDigit(s[j]) && j-i-letters < 10 {
		j++
	}
	if n := j - i - letters; n < 6 || n > 9 || !rightFree(s, j) {
		return 0
	}
	if sc.ctx(i, j, Passport) != positive {
		return 0
	}
	if sc.emit(i, j, Passport, 0.85, "passport/context") {
		return j
	}
	return 0
}
