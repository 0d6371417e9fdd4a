package corpus

import (
	"math/big"
	"strings"
)

// The generator's own check characters, written from the standards rather
// than shared with package detect.

// luhnDigit returns the digit that makes payload+digit pass ISO/IEC 7812-1
// (Luhn mod 10).
func luhnDigit(payload string) byte {
	sum := 0
	for i := 0; i < len(payload); i++ {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 { // the rightmost payload digit is doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func luhnOK(number string) bool {
	return luhnDigit(number[:len(number)-1]) == number[len(number)-1]
}

// gb11643Char returns the ISO 7064 MOD 11-2 check character of the first 17
// digits of a GB 11643-1999 resident identity number: weights 2^(17-i) mod
// 11, the remainder of the weighted sum mapped through "10X98765432".
func gb11643Char(first17 string) byte {
	sum, w := 0, 1
	for i := 16; i >= 0; i-- {
		w = w * 2 % 11
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// ibanCheck returns the two check digits of an IBAN (ISO 13616): move the
// country code and "00" to the end, letters to 10..35, 98 − (n mod 97).
func ibanCheck(country, bban string) string {
	var sb strings.Builder
	for _, r := range bban + country + "00" {
		if r >= 'A' && r <= 'Z' {
			sb.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		} else {
			sb.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(sb.String(), 10)
	c := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

// myNumberDigit returns the check digit of a Japanese Individual Number
// (マイナンバー) from its first 11 digits, as the Cabinet Office ordinance
// defines it: P_n is the n-th digit counted from the right of the 11,
// Q_n = n+1 for n ≤ 6 and n−5 for n ≥ 7; r = Σ P_n·Q_n mod 11; the check
// digit is 0 when r ≤ 1, else 11 − r.
func myNumberDigit(first11 string) byte {
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(first11[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	r := sum % 11
	if r <= 1 {
		return '0'
	}
	return byte('0' + 11 - r)
}
