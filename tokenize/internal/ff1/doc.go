// Package ff1 implements FF1 format-preserving encryption, as specified in
// NIST SP 800-38G, "Recommendation for Block Cipher Modes of Operation:
// Methods for Format-Preserving Encryption", with the domain-size
// requirement of its first revision (SP 800-38G Rev. 1).
//
// # What FF1 is
//
// FF1 encrypts a string of numerals in a given radix (base) into another
// string of numerals of the same length and radix: a 16-digit card number
// becomes another 16-digit number, an 18-character ID another 18 characters
// of the same alphabet. It is a ten-round Feistel network whose round
// function is AES in CBC-MAC mode over the tweak, the round number and one
// half of the input. Being a permutation of the domain, it needs no extra
// room to store, which is why legacy schemas and systems that validate
// formats can hold its output.
//
// The numeral API (Cipher.Encrypt, Cipher.Decrypt) works on []uint16 for
// any radix from 2 to 65536. The string API (Cipher.EncryptString,
// Cipher.DecryptString) maps characters to numerals through an Alphabet:
// Digits (radix 10), Base36 ("0-9a-z") and Base62 ("0-9A-Za-z") are ready,
// NewAlphabet builds others. The package checks its output against all nine
// FF1 samples NIST publishes and a subset of NIST's ACVP test vectors
// (testdata/).
//
// This package is internal to tokenize: applications use tokenize's
// format-preserving tokens, which derive the key from the key ring and the
// tweak from the field being protected.
//
// # Security considerations
//
//   - Small domains. FF1 is only as strong as its domain is large: with
//     radix^length values, an attacker who can encrypt or who knows some
//     plaintext–ciphertext pairs learns a useful fraction of a small
//     domain's codebook, and known attacks on Feistel-based FPE get cheaper
//     as the domain shrinks. SP 800-38G Rev. 1 therefore requires
//     radix^length ≥ 1,000,000; shorter inputs fail with ErrDomainTooSmall
//     (6 digits, 4 base-36 or base-62 characters, 20 bits). Even above
//     that bound, a domain of a few million values can be enumerated: do
//     not use FF1 on fields like PINs, and do not treat it as hiding a value
//     that can be guessed by trying all of them against a decryption or
//     lookup oracle.
//   - Determinism. Under one key and tweak, equal plaintexts give equal
//     ciphertexts. That is what makes joins and lookups on tokens work, and
//     it also reveals which records share a value, and how often each
//     value occurs. FF1 gives confidentiality only: no integrity, no
//     authentication. Every numeral string of a valid length decrypts, so
//     a wrong key, a wrong tweak or a tampered ciphertext decrypts to a
//     wrong value without an error.
//   - Tweaks. The tweak is public, not secret, and it changes the
//     permutation: the same value under two tweaks encrypts to unrelated
//     results. Use a tweak that names the field (and, if tokens must not be
//     joinable across tenants, the tenant), so that a ciphertext copied to
//     another column decrypts to garbage and equal values in different
//     fields do not match. Tweaks make small domains much harder to attack
//     only when they vary; a constant tweak protects nothing.
//   - Partial formats. FF1 preserves length and alphabet, not any other
//     rule: an encrypted card number generally fails the Luhn check, and an
//     encrypted date is generally not a valid date. Callers that need such
//     properties encrypt only the free part and recompute the rest.
//   - Keys. Use one key per purpose, never the key of another mode. NIST
//     approves FF1 with AES only: NewAES takes a 16-, 24- or 32-byte key.
//     A Cipher holds the AES key schedule; it never prints it (String,
//     GoString, Format, LogValue and MarshalJSON name only the radix).
//
// # Limits
//
// The radix is between 2 and 65536. The input length is between MinLen(radix)
// (the smallest length with radix^length ≥ 1,000,000, and at least 2) and a
// maximum that is DefaultMaxLen(radix) = 2·⌊log_radix(2^96)⌋ unless
// Options.MaxLen raises or lowers it, up to the standard's bound of
// 2^32−1. The tweak is at most DefaultMaxTweakLen (256) bytes unless
// Options.MaxTweakLen says otherwise.
//
// # Performance
//
// A Cipher builds its AES key schedule once. When radix^⌈length/2⌉ fits in
// 64 bits (up to 38 decimal digits), the rounds run on machine words with no
// allocation; longer inputs use math/big. Encrypting a 16-digit number with a
// tweak of up to 11 bytes takes eleven AES block operations (each further 16
// bytes of tweak add one) and one allocation, the result.
//
// # Errors
//
// Every error wraps one of three sentinels, for errors.Is:
//
//   - ErrInvalidParams: a bad key size, block size, radix, alphabet or
//     option, or an alphabet whose size is not the cipher's radix;
//   - ErrDomainTooSmall: radix^length below 1,000,000;
//   - ErrInvalidInput: a numeral not below the radix or a character outside
//     the alphabet (an *InputError with its 0-based Index, for errors.As),
//     an input longer than the maximum, or a tweak longer than its maximum.
//
// Messages start with "ff1: " and name lengths, positions and radixes. They
// never contain a numeral, a character, a tweak or key bytes.
package ff1
