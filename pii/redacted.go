package pii

import (
	"database/sql/driver"
	"fmt"
	"log/slog"
)

// Redacted is what the redacting types print in place of their value.
const Redacted = "[redacted]"

// String is a string that holds personal data and never prints it: fmt
// (every verb, including %v %+v %#v %s %q and %x), log/slog and
// encoding/json all see "[redacted]". The value is read with Reveal, an
// explicit call that a code review can find with grep.
//
// String works as the type of a tagged record field: Seal stores the
// ciphertext in it and Open the plaintext. As a driver.Valuer it refuses to
// write plaintext to a database (ErrPlaintext): a record whose PII fields are
// Strings cannot be stored without being sealed first.
//
// Converting with string(s) also reveals the value; prefer Reveal, which
// says what it does.
type String string

// Reveal returns the value. Call it only where the value must be used in the
// clear (to send an e-mail, to show it to an authorised person).
func (s String) Reveal() string { return string(s) }

// String returns "[redacted]".
func (String) String() string { return Redacted }

// GoString returns `pii.String("[redacted]")`.
func (String) GoString() string { return `pii.String("[redacted]")` }

// Format prints "[redacted]" for every verb (quoted for %q).
func (String) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// LogValue returns "[redacted]" for log/slog.
func (String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON returns "[redacted]": a String never reaches JSON. (Decoding
// JSON into a String works as for a string.)
func (String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// Value implements driver.Valuer. It returns a sealed (or empty) value as
// is and refuses plaintext with an error wrapping ErrPlaintext, so that
// personal data is never written to a database unprotected.
func (s String) Value() (driver.Value, error) {
	if s == "" {
		return "", nil
	}
	if _, _, err := parseCiphertext(string(s)); err != nil {
		return nil, fmt.Errorf("%w: refusing to write an unsealed pii.String to the database; Seal the record first", ErrPlaintext)
	}
	return string(s), nil
}

// Scan implements sql.Scanner: it reads a text or binary column (NULL is
// ""). Whether the value is a ciphertext is checked by Open.
func (s *String) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s = ""
	case string:
		*s = String(v)
	case []byte:
		*s = String(v)
	default:
		return fmt.Errorf("pii: cannot scan %T into a pii.String", src)
	}
	return nil
}

func formatRedacted(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", Redacted)
		return
	}
	_, _ = f.Write([]byte(Redacted))
}
