package pii

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/piiguard/piiguard/internal/normalize"
)

// SealedMask is what Redact puts in place of a sealed value.
const SealedMask = "[sealed]"

// Mask returns the masked form of a plaintext value of kind k, for logs and
// support screens. Masks keep what a support agent needs to recognise a
// value and hide the rest:
//
//	name          "Lucy Westenra"          → "L. W."
//	email         "lucy@example.com"       → "l***@example.com"
//	phone         "+44 20 7946 8000"       → "*** **** 8000"
//	card          "4111 1111 1111 1111"    → "4111 11** **** 1111"  (first 6, last 4)
//	national_id   "AB12345678CD002X"       → "************002X"     (last 4)
//	bank_account  "GB82 WEST 1234 5698"    → "GB** **** **** 5698"  (country, last 4)
//	address       "1 Main St, Springfield, IL 62701" → "***, Springfield"
//	city          "Springfield"            → "Springfield"
//	dob           "1987-04-12"             → "1987-**-**"
//	ip            "192.0.2.44"             → "192.0.2.*"
//	street, postcode, text                 → "***"
//
// An empty value stays empty, and a value too short to mask safely is
// masked fully. Mask never returns more of the value than the table shows;
// for an unknown kind it returns "***".
func Mask(k Kind, value string) string {
	if value == "" {
		return ""
	}
	switch k {
	case KindName:
		return maskName(value)
	case KindEmail:
		return maskEmail(value)
	case KindPhone:
		d := normalize.Digits(value)
		if len(d) < 8 {
			return "***"
		}
		return "*** **** " + d[len(d)-4:]
	case KindCard:
		return maskCard(normalize.Digits(value))
	case KindNationalID:
		return maskKeep(value, 0, 4)
	case KindBankAccount:
		return maskKeep(value, 2, 4)
	case KindAddress:
		if city := cityOf(value); city != "" {
			return "***, " + city
		}
		return "***"
	case KindCity:
		return strings.TrimSpace(value)
	case KindDateOfBirth:
		return maskDate(value)
	case KindIP:
		return maskIP(value)
	}
	return "***"
}

func maskName(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToUpper(r))
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return "***"
	}
	return b.String()
}

func maskEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(s)
	return string(r) + "***" + s[at:]
}

// maskCard shows the first six and last four digits of a PAN of 13 or more
// digits (as PCI DSS allows), the last four of a shorter one, grouped by
// four.
func maskCard(d string) string {
	if len(d) < 8 {
		return "****"
	}
	head := 0
	if len(d) >= 13 {
		head = 6
	}
	var b strings.Builder
	for i := 0; i < len(d); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		if i < head || i >= len(d)-4 {
			b.WriteByte(d[i])
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// maskKeep keeps the first head and last tail letters or digits and masks
// the others with '*', keeping separators. Values with no more than
// head+tail+4 letters and digits are masked fully.
func maskKeep(s string, head, tail int) string {
	s = strings.TrimSpace(s)
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	if n <= head+tail+4 {
		head, tail = 0, 0
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			continue
		}
		if i < head || i >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// cityOf guesses the city of a one-line postal address: it splits the
// address at commas and line breaks, drops the words holding digits (house
// numbers, postal codes), drops the first part (the street), and returns
// the first part left. "221B Baker Street, London NW1 6XE" → "London".
func cityOf(s string) string {
	var parts []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		var words []string
		for _, w := range strings.Fields(p) {
			if strings.IndexFunc(w, unicode.IsDigit) < 0 {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			parts = append(parts, strings.Join(words, " "))
		}
	}
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// maskDate keeps the first four-digit run (the year) of a date.
func maskDate(s string) string {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run == 4 && (i+1 == len(s) || s[i+1] < '0' || s[i+1] > '9') {
				return s[i-3:i+1] + "-**-**"
			}
			continue
		}
		run = 0
	}
	return "****-**-**"
}

func maskIP(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "***"
	}
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[2])) + ".*"
	}
	p, _ := a.WithZone("").Prefix(48)
	return p.String()
}
