package tokenize

import "github.com/piiguard/piiguard/internal/normalize"

// KindExact is the kind of domains whose values are tokenized exactly as
// given, byte for byte.
const KindExact = "exact"

// Normalize returns value in the canonical form of kind, the form that HMAC,
// SIV and vaulted tokens are made from. The kinds are those of package pii,
// with the same normalisation as its blind indexes:
//
//   - "email": trimmed and lower-cased;
//   - "phone": E.164 ("+442079460800"), with defaultCountry for numbers
//     written without a country code;
//   - "card": the digits alone;
//   - "national_id", "bank_account", "postcode": letters and digits,
//     upper-cased;
//   - "ip": the canonical address text;
//   - "name", "address", "street", "city", "dob", "text": trimmed, white
//     space collapsed, lower-cased;
//   - "exact" and any other string: value unchanged.
//
// Detokenizing returns the canonical form, not the value as first written.
func Normalize(kind, value, defaultCountry string) string {
	v, _ := normalize.Apply(kind, value, defaultCountry)
	return v
}

// knownKind reports whether kind is one Normalize knows, or KindExact.
func knownKind(kind string) bool {
	return kind == KindExact || normalize.Known(kind)
}

// normalizer returns the normalisation of kind as a function, nil for
// none (exact). The kind is resolved here, once, rather than on every
// value.
func normalizer(kind, defaultCountry string) func(string) string {
	return normalize.Bound(kind, defaultCountry)
}

// checkCanonical refuses empty and oversized canonical values.
func checkCanonical(v string) (string, error) {
	if v == "" {
		return "", errf(ErrInvalidValue, "the value is empty after normalisation")
	}
	if len(v) > MaxValueSize {
		return "", errf(ErrInvalidValue, "%d bytes, more than %d", len(v), MaxValueSize)
	}
	return v, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
