// Package phone holds what piiguard knows of the E.164 numbering plan: what
// a country calling code looks like, and how long the one that starts an
// international number is. Packages pii and tokenize both validate
// Options.DefaultCountryCode with CallingCode, so that the two accept and
// refuse the same codes.
//
// Normalising a phone number to E.164 is package normalize's (Phone); this
// package only reads codes.
package phone

// CallingCode reports whether s is a country calling code, written with or
// without a leading "+" ("44", "+44", "1", "852"), and returns its digits
// without the "+". A calling code is 1 to 3 ASCII digits, the first of them
// not 0. The empty string is not one: callers that take "" to mean "no
// default country" check for it first.
func CallingCode(s string) (digits string, ok bool) {
	d := s
	if len(d) > 0 && d[0] == '+' {
		d = d[1:]
	}
	if len(d) < 1 || len(d) > 3 || d[0] == '0' {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return "", false
		}
	}
	return d, true
}

// twoDigitCodes are the ITU-T E.164 country calling codes of two digits.
// Codes starting with 1 or 7 have one digit; every other code has three.
// The assignment is prefix-free, which is what makes CountryCodeLen exact.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true,
	"39": true, "40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true,
	"48": true, "49": true, "51": true, "52": true, "53": true, "54": true, "55": true, "56": true,
	"57": true, "58": true, "60": true, "61": true, "62": true, "63": true, "64": true, "65": true,
	"66": true, "81": true, "82": true, "84": true, "86": true, "90": true, "91": true, "92": true,
	"93": true, "94": true, "95": true, "98": true,
}

// CountryCodeLen returns the length of the country calling code that starts
// d, the digits of an E.164 number without its "+": 1 for codes starting
// with 1 or 7, 2 for the 44 two-digit codes, else 3 (or len(d) when d is
// shorter). It is 0 for an empty d. It reads the ITU's prefix-free code
// assignment, not a list of the numbers in service.
func CountryCodeLen(d string) int {
	switch {
	case d == "":
		return 0
	case d[0] == '1' || d[0] == '7':
		return 1
	case len(d) >= 2 && twoDigitCodes[d[:2]]:
		return 2
	}
	return min(3, len(d))
}
