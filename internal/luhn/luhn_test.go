package luhn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Published Luhn-valid test numbers: card networks' test PANs and the
// example of ISO/IEC 7812 descriptions.
var validLuhn = []string{
	"4111111111111111", // Visa test card
	"4012888888881881", // Visa test card
	"5500000000000004", // Mastercard test card
	"5555555555554444", // Mastercard test card
	"378282246310005",  // American Express test card
	"6011111111111117", // Discover test card
	"79927398713",      // the classic worked example
	"00",
	"18",
}

func TestValidAcceptsKnownNumbers(t *testing.T) {
	t.Parallel()
	for _, n := range validLuhn {
		assert.True(t, Valid(n), n)
	}
}

func TestCheckDigitMatchesKnownNumbers(t *testing.T) {
	t.Parallel()
	for _, n := range validLuhn {
		d, err := CheckDigit(n[:len(n)-1])
		require.NoError(t, err, n)
		assert.Equal(t, n[len(n)-1], d, n)
	}
}

// TestValidRejectsEverySingleDigitError proves the property the check digit
// exists for: changing any one digit breaks the check.
func TestValidRejectsEverySingleDigitError(t *testing.T) {
	t.Parallel()
	for _, n := range validLuhn {
		for i := range len(n) {
			for c := byte('0'); c <= '9'; c++ {
				if c == n[i] {
					continue
				}
				bad := n[:i] + string(c) + n[i+1:]
				assert.False(t, Valid(bad), bad)
			}
		}
	}
}

func TestValidRejectsAdjacentTransposition(t *testing.T) {
	t.Parallel()
	// Luhn detects every adjacent transposition except 09 <-> 90.
	n := "4111111111111111"
	swapped := "1411111111111111"
	assert.True(t, Valid(n))
	assert.False(t, Valid(swapped))
}

func TestValidRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "0", "4111 1111 1111 1111", "4111-1111-1111-1111", "411111111111111a", "٤١١١١١١١١١١١١١١١", "+4111111111111111"} {
		assert.False(t, Valid(s), "%q", s)
	}
}

func TestCheckDigitErrorsNameThePositionOnly(t *testing.T) {
	t.Parallel()
	_, err := CheckDigit("")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.True(t, strings.HasPrefix(err.Error(), "luhn: "))

	_, err = CheckDigit("41111111#1111")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, "luhn: invalid input: byte at index 8 is not a digit", err.Error())
	assert.NotContains(t, err.Error(), "4111")
	assert.NotContains(t, err.Error(), "#")
}

func TestCheckDigitOfEveryDigitPrefix(t *testing.T) {
	t.Parallel()
	// For any payload, exactly one digit makes the number valid.
	for _, payload := range []string{"0", "7", "12", "99", "453201511283036", "123456789012345678"} {
		d, err := CheckDigit(payload)
		require.NoError(t, err)
		valid := 0
		for c := byte('0'); c <= '9'; c++ {
			if Valid(payload + string(c)) {
				valid++
				assert.Equal(t, d, c, payload)
			}
		}
		assert.Equal(t, 1, valid, payload)
	}
}
