package phone

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCallingCodeAcceptsOneToThreeDigitsNotStartingWithZero(t *testing.T) {
	for in, want := range map[string]string{"44": "44", "+44": "44", "1": "1", "+1": "1", "852": "852", "+852": "852"} {
		got, ok := CallingCode(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "+", "0", "044", "+044", "1234", "4a", "++44", " 44", "44 ", "٤٤"} {
		got, ok := CallingCode(in)
		assert.False(t, ok, in)
		assert.Empty(t, got, in)
	}
}

func TestCountryCodeLenFollowsTheITUAssignment(t *testing.T) {
	for d, want := range map[string]int{
		"":             0,
		"12125550100":  1, // North America
		"74951234567":  1, // Russia, Kazakhstan
		"442079460800": 2,
		"861012345678": 2,
		"85212345678":  3, // Hong Kong
		"35312345678":  3, // Ireland
		"4":            1,
		"35":           2,
	} {
		assert.Equal(t, want, CountryCodeLen(d), d)
	}
}
