package ff1_test

import (
	"crypto/aes"
	"encoding/hex"
	"errors"
	"fmt"
	"log"

	"github.com/piiguard/piiguard/tokenize/internal/ff1"
)

// The key of NIST's FF1 samples 1 to 3. Real keys come from the key ring,
// never from source code.
var exampleKey, _ = hex.DecodeString("2B7E151628AED2A6ABF7158809CF4F3C")

// Encrypting a card number keeps it 16 digits long. The tweak binds the
// result to the field it protects.
func Example() {
	c, err := ff1.NewAES(exampleKey, 10, ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	tweak := []byte("customers.card_number")
	token, err := c.EncryptString(ff1.Digits(), "4111111111111111", tweak)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := c.DecryptString(ff1.Digits(), token, tweak)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
	fmt.Println(plain)
	// Output:
	// 4651609133180889
	// 4111111111111111
}

// NIST SP 800-38G, FF1 sample 1: AES-128, radix 10, empty tweak.
func ExampleNewAES() {
	c, err := ff1.NewAES(exampleKey, 10, ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ct, err := c.EncryptString(ff1.Digits(), "0123456789", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ct)
	// Output: 2433477484
}

// New takes a cipher.Block that was built elsewhere.
func ExampleNew() {
	block, err := aes.NewCipher(exampleKey)
	if err != nil {
		log.Fatal(err)
	}
	c, err := ff1.New(block, 36, ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// NIST SP 800-38G, FF1 sample 3: radix 36 with a tweak.
	ct, err := c.EncryptString(ff1.Base36(), "0123456789abcdefghi", []byte("7777pqrs777"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ct)
	// Output: a9tv40mll9kdu509eum
}

// The numeral API works for any radix up to 65536, here 2^16 (two bytes per
// numeral).
func ExampleCipher_Encrypt() {
	c, err := ff1.NewAES(exampleKey, 1<<16, ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	x := []uint16{0xcafe, 0xbabe, 0x0000, 0xffff}
	y, err := c.Encrypt(x, []byte("tweak"))
	if err != nil {
		log.Fatal(err)
	}
	back, err := c.Decrypt(y, []byte("tweak"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(y), back)
	// Output: 4 [51966 47806 0 65535]
}

// Inputs whose domain is below one million values are refused, and a
// character outside the alphabet is reported by position, never by value.
func ExampleCipher_EncryptString_errors() {
	c, err := ff1.NewAES(exampleKey, 10, ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.EncryptString(ff1.Digits(), "12345", nil)
	fmt.Println(errors.Is(err, ff1.ErrDomainTooSmall))

	_, err = c.EncryptString(ff1.Digits(), "4111-1111-1111-1111", nil)
	var ie *ff1.InputError
	fmt.Println(errors.Is(err, ff1.ErrInvalidInput), errors.As(err, &ie), ie.Index)
	fmt.Println(err)
	// Output:
	// true
	// true true 4
	// ff1: invalid input: character at index 4 is not in the alphabet
}

// An alphabet of your own: here the 32 characters of Crockford's base 32.
func ExampleNewAlphabet() {
	crockford, err := ff1.NewAlphabet("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
	if err != nil {
		log.Fatal(err)
	}
	c, err := ff1.NewAES(exampleKey, crockford.Radix(), ff1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ct, err := c.EncryptString(crockford, "7ZK3M9QW", []byte("order-id"))
	if err != nil {
		log.Fatal(err)
	}
	pt, err := c.DecryptString(crockford, ct, []byte("order-id"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(crockford.Radix(), len(ct), pt)
	// Output: 32 8 7ZK3M9QW
}
