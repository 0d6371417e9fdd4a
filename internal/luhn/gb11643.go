package luhn

import "fmt"

// GB 11643-1999 resident identity numbers are 18 characters: a 6-digit
// region code, an 8-digit birth date, a 3-digit sequence number and a check
// character computed with ISO 7064 MOD 11-2 over the first 17 digits.
const (
	// GB11643Len is the length of a resident identity number.
	GB11643Len = 18
	// gb11643Checks maps (Σ digit_i·weight_i) mod 11 to the check character.
	gb11643Checks = "10X98765432"
)

// gb11643Weights are 2^(17−i) mod 11 for positions i = 0..16 (ISO 7064 MOD
// 11-2).
var gb11643Weights = [GB11643Len - 1]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// GB11643CheckChar returns the check character ('0' to '9' or 'X') of a
// GB 11643-1999 resident identity number from its first 17 characters,
// which must be ASCII digits. For example, the check character of
// "11010519491231002" is 'X'. It checks only the form, not that the region
// code or the birth date exist.
func GB11643CheckChar(first17 string) (byte, error) {
	if len(first17) != GB11643Len-1 {
		return 0, fmt.Errorf("luhn: %w: GB 11643 payload is %d bytes, want %d", ErrInvalidInput, len(first17), GB11643Len-1)
	}
	sum := 0
	for i := range len(first17) {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("luhn: %w: byte at index %d is not a digit", ErrInvalidInput, i)
		}
		sum += int(c-'0') * gb11643Weights[i]
	}
	return gb11643Checks[sum%11], nil
}

// ValidGB11643 reports whether id is an 18-character GB 11643-1999 resident
// identity number whose last character is the right check character. The
// check character 'X' must be upper case, as the standard writes it;
// callers that accept 'x' upper-case it first. Like GB11643CheckChar, it
// does not check the region code or the birth date.
func ValidGB11643(id string) bool {
	if len(id) != GB11643Len {
		return false
	}
	want, err := GB11643CheckChar(id[:GB11643Len-1])
	return err == nil && id[GB11643Len-1] == want
}
