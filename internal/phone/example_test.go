package phone_test

import (
	"fmt"

	"github.com/piiguard/piiguard/internal/phone"
)

func ExampleCallingCode() {
	fmt.Println(phone.CallingCode("+44"))
	fmt.Println(phone.CallingCode("044"))
	// Output:
	// 44 true
	//  false
}

func ExampleCountryCodeLen() {
	d := "442079460800" // +44 20 7946 0800
	n := phone.CountryCodeLen(d)
	fmt.Println(d[:n], d[n:])
	// Output: 44 2079460800
}
