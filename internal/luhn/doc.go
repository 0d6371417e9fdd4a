// Package luhn computes and verifies the check characters of two kinds of
// identifiers that piiguard formats and tokenizes:
//
//   - the Luhn (mod 10) check digit of payment card numbers (ISO/IEC 7812-1)
//     and of many other account numbers: CheckDigit and Valid;
//   - the check character of the 18-character Chinese resident identity
//     number (GB 11643-1999), ISO 7064 MOD 11-2 over the first 17 digits,
//     which is a digit or 'X': GB11643CheckChar and ValidGB11643.
//
// Format-preserving encryption keeps an identifier's length and alphabet
// but not its check character. The tokenize package uses this package to
// recompute the check character of a token, so that it passes the same
// validation as a real identifier, and to tell real identifiers from
// tokens where that matters.
//
// # Security considerations
//
// A check character detects typing errors; it is not a secret and not an
// authenticator. A valid check character says nothing about whether a card
// or an identity exists. Callers must not log the numbers they check: they
// are personal data.
//
// # Errors
//
// Functions that compute a check character return an error wrapping
// ErrInvalidInput when their input is not of the expected form. Messages
// start with "luhn: " and name the position of the offending character and
// lengths, never the number itself or its characters. The validation
// functions report false for malformed input instead of an error.
package luhn
