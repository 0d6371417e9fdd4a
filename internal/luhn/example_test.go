package luhn_test

import (
	"fmt"

	"github.com/piiguard/piiguard/internal/luhn"
)

func ExampleValid() {
	fmt.Println(luhn.Valid("4111111111111111"))
	fmt.Println(luhn.Valid("4111111111111112"))
	// Output:
	// true
	// false
}

// A format-preserving token of a card number keeps its length; recomputing
// the last digit makes it pass the Luhn check too.
func ExampleCheckDigit() {
	encrypted := "465160913318088" // the first 15 digits, encrypted
	d, err := luhn.CheckDigit(encrypted)
	if err != nil {
		panic(err)
	}
	token := encrypted + string(d)
	fmt.Println(token, luhn.Valid(token))
	// Output: 4651609133180887 true
}

func ExampleGB11643CheckChar() {
	c, err := luhn.GB11643CheckChar("11010519491231002")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%c\n", c)
	fmt.Println(luhn.ValidGB11643("11010519491231002X"))
	// Output:
	// X
	// true
}
