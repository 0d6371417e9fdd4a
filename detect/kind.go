package detect

import (
	"fmt"
	"strings"
)

// Kind is a kind of personal data a Detector finds.
type Kind uint8

// The kinds, each with the validation its recognizer applies (see the
// package documentation for the rules).
const (
	Email    Kind = iota + 1 // an e-mail address (RFC 5322 addr-spec, a known or plausible top-level domain)
	Phone                    // a phone number valid in libphonenumber's metadata, in E.164 or a national form
	Card                     // a payment card number: Luhn check and an issuer's IIN range and length
	CNID                     // a Chinese resident identity number: GB 11643-1999 check character, region and birth date
	IBAN                     // an International Bank Account Number: ISO 13616 country length and mod-97 check
	IP                       // an IPv4 or IPv6 address that can name a host (not loopback or unspecified)
	SSN                      // a US Social Security number outside the ranges the SSA never assigns
	NINO                     // a UK National Insurance number with a prefix HMRC issues
	MyNumber                 // a Japanese Individual Number (マイナンバー) with its check digit, with context
	DOB                      // a date of birth: a valid past date, only with context
	Passport                 // a passport number, only with context

	numKinds = iota + 1
)

var kindNames = [numKinds]string{"", "email", "phone", "card", "cnid", "iban", "ip", "ssn", "nino", "mynumber", "dob", "passport"}

// Kinds returns every kind, in the order of their constants.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Email; k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// String returns the kind's name ("email", "cnid", ...), which ParseKind
// reads back.
func (k Kind) String() string {
	if k > 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind returns the kind named s (as Kind.String writes it, any case),
// or an error wrapping ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	for k := Email; k < numKinds; k++ {
		if strings.EqualFold(s, kindNames[k]) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("detect: %w %q", ErrUnknownKind, s)
}

// kindSet is a set of kinds as a bit mask.
type kindSet uint16

func (s kindSet) has(k Kind) bool { return s&(1<<k) != 0 }
