package pii

import (
	"database/sql/driver"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
)

// Value holds a typed personal value — a date of birth as a time.Time, an
// income as an int64 — in a record field, where a plain time.Time or int64
// could not hold its ciphertext. Tag the field like any other:
//
//	BirthDate pii.Value[time.Time] `pii:"dob"`
//
// A Value is in one of four states: empty (the zero Value), plain (made by
// ValueOf, by Open or by scanning a plaintext column), sealed (a ciphertext,
// after Seal or after scanning a sealed column) or masked (after Redact).
//
// T is encoded to bytes before it is encrypted: with its MarshalText and
// UnmarshalText methods if T has them (time.Time: RFC 3339 with
// nanoseconds; the monotonic clock reading and the location's name are not
// kept, the offset is), otherwise by its kind: strings and []byte as is,
// booleans, integers and floats in their strconv decimal form. Any other T
// is refused when the record's plan is built (ErrUnsupportedType).
//
// Like String, a Value never prints, logs or marshals its content; Reveal
// returns it. As a driver.Valuer it writes the ciphertext of a sealed Value
// (NULL for an empty one) and refuses plaintext.
type Value[T any] struct {
	state valueState
	v     T
	text  string // the ciphertext when sealed, the mask when masked
}

type valueState uint8

const (
	valueEmpty valueState = iota
	valuePlain
	valueSealed
	valueMasked
)

// ValueOf returns a Value holding v in the clear.
func ValueOf[T any](v T) Value[T] { return Value[T]{state: valuePlain, v: v} }

// Reveal returns the value in the clear: the zero T and nil for an empty
// Value, and an error wrapping ErrSealed for a sealed or masked one.
func (v Value[T]) Reveal() (T, error) {
	switch v.state {
	case valueEmpty, valuePlain:
		return v.v, nil
	}
	var zero T
	return zero, fmt.Errorf("%w: Open the record before revealing the value", ErrSealed)
}

// IsZero reports whether v is empty.
func (v Value[T]) IsZero() bool { return v.state == valueEmpty }

// IsSealed reports whether v holds a ciphertext.
func (v Value[T]) IsSealed() bool { return v.state == valueSealed }

// Masked returns the mask Redact put in v, and false if v is not masked.
func (v Value[T]) Masked() (string, bool) { return v.text, v.state == valueMasked }

// String returns "[redacted]".
func (Value[T]) String() string { return Redacted }

// GoString returns "pii.Value[redacted]".
func (Value[T]) GoString() string { return "pii.Value[" + Redacted + "]" }

// Format prints "[redacted]" for every verb (quoted for %q).
func (Value[T]) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// LogValue returns "[redacted]" for log/slog.
func (Value[T]) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON returns "[redacted]".
func (Value[T]) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// UnmarshalJSON decodes a T from JSON into a plain Value (null makes it
// empty), so that request bodies can be decoded into records.
func (v *Value[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = Value[T]{}
		return nil
	}
	var x T
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("pii: decoding a pii.Value[%s] from JSON failed", reflect.TypeFor[T]())
	}
	*v = ValueOf(x)
	return nil
}

// Value implements driver.Valuer: the ciphertext of a sealed Value, NULL for
// an empty one, and an error wrapping ErrPlaintext otherwise.
func (v Value[T]) Value() (driver.Value, error) {
	switch v.state {
	case valueEmpty:
		return nil, nil
	case valueSealed:
		return v.text, nil
	}
	return nil, fmt.Errorf("%w: refusing to write an unsealed pii.Value to the database; Seal the record first", ErrPlaintext)
}

// Scan implements sql.Scanner. NULL makes v empty; a text or binary column
// holding a ciphertext makes it sealed. Any other text is decoded as the
// plaintext of T (a database being migrated to encryption), and so is a
// column value of type T itself; Open then refuses it unless migration mode
// is on.
func (v *Value[T]) Scan(src any) error {
	var text []byte
	switch s := src.(type) {
	case nil:
		*v = Value[T]{}
		return nil
	case string:
		text = []byte(s)
	case []byte:
		text = s
	case T:
		*v = ValueOf(s)
		return nil
	default:
		return fmt.Errorf("pii: cannot scan %T into a pii.Value[%s]", src, reflect.TypeFor[T]())
	}
	if marked(text) {
		if _, _, err := parseCiphertext(bytesToString(text)); err != nil {
			return fmt.Errorf("pii: scanning a pii.Value[%s]: %w", reflect.TypeFor[T](), err)
		}
		*v = Value[T]{state: valueSealed, text: string(text)}
		return nil
	}
	x, err := decodeValue[T](text)
	if err != nil {
		return fmt.Errorf("pii: scanning a pii.Value[%s]: %w", reflect.TypeFor[T](), err)
	}
	*v = ValueOf(x)
	return nil
}

// valueField is how the walker reaches a Value[T] of any T.
type valueField interface {
	piiCodecErr() error
	piiState() valueState
	piiText() string                       // ciphertext or mask
	piiPlain() ([]byte, error)             // the encoded plaintext
	piiWithPlain(b []byte) (any, error)    // a plain Value[T] decoded from b
	piiWithText(s string, sealed bool) any // a sealed or masked Value[T]
}

func (v *Value[T]) piiCodecErr() error {
	_, err := codecOf[T]()
	return err
}

func (v *Value[T]) piiState() valueState { return v.state }
func (v *Value[T]) piiText() string      { return v.text }

func (v *Value[T]) piiPlain() ([]byte, error) { return encodeValue(v.v) }

func (v *Value[T]) piiWithPlain(b []byte) (any, error) {
	x, err := decodeValue[T](b)
	if err != nil {
		return nil, err
	}
	return ValueOf(x), nil
}

func (v *Value[T]) piiWithText(s string, sealed bool) any {
	if sealed {
		return Value[T]{state: valueSealed, text: s}
	}
	return Value[T]{state: valueMasked, text: s}
}

type codec uint8

const (
	codecText codec = iota + 1
	codecString
	codecBytes
	codecBool
	codecInt
	codecUint
	codecFloat
)

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func codecOf[T any]() (codec, error) {
	t := reflect.TypeFor[T]()
	if t.Implements(textMarshalerType) && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return codecText, nil
	}
	switch t.Kind() {
	case reflect.String:
		return codecString, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return codecBytes, nil
		}
	case reflect.Bool:
		return codecBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return codecInt, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return codecUint, nil
	case reflect.Float32, reflect.Float64:
		return codecFloat, nil
	}
	return 0, fmt.Errorf("%w: pii.Value[%s]: %s has neither MarshalText/UnmarshalText nor a string, []byte, bool or number kind", ErrUnsupportedType, t, t)
}

func encodeValue[T any](x T) ([]byte, error) {
	c, err := codecOf[T]()
	if err != nil {
		return nil, err
	}
	if c == codecText {
		b, err := any(x).(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, fmt.Errorf("pii: encoding a %s failed", reflect.TypeFor[T]())
		}
		return b, nil
	}
	rv := reflect.ValueOf(&x).Elem()
	switch c {
	case codecString:
		return []byte(rv.String()), nil
	case codecBytes:
		return append([]byte(nil), rv.Bytes()...), nil
	case codecBool:
		return strconv.AppendBool(nil, rv.Bool()), nil
	case codecInt:
		return strconv.AppendInt(nil, rv.Int(), 10), nil
	case codecUint:
		return strconv.AppendUint(nil, rv.Uint(), 10), nil
	default: // codecFloat
		return strconv.AppendFloat(nil, rv.Float(), 'g', -1, rv.Type().Bits()), nil
	}
}

func decodeValue[T any](b []byte) (T, error) {
	var x T
	c, err := codecOf[T]()
	if err != nil {
		return x, err
	}
	bad := fmt.Errorf("%w: the plaintext does not decode as a %s", ErrInvalidCiphertext, reflect.TypeFor[T]())
	if c == codecText {
		if err := any(&x).(encoding.TextUnmarshaler).UnmarshalText(b); err != nil {
			return x, bad
		}
		return x, nil
	}
	rv := reflect.ValueOf(&x).Elem()
	switch c {
	case codecString:
		rv.SetString(string(b))
	case codecBytes:
		rv.SetBytes(append([]byte(nil), b...))
	case codecBool:
		v, err := strconv.ParseBool(string(b))
		if err != nil {
			return x, bad
		}
		rv.SetBool(v)
	case codecInt:
		v, err := strconv.ParseInt(string(b), 10, rv.Type().Bits())
		if err != nil {
			return x, bad
		}
		rv.SetInt(v)
	case codecUint:
		v, err := strconv.ParseUint(string(b), 10, rv.Type().Bits())
		if err != nil {
			return x, bad
		}
		rv.SetUint(v)
	case codecFloat:
		v, err := strconv.ParseFloat(string(b), rv.Type().Bits())
		if err != nil {
			return x, bad
		}
		rv.SetFloat(v)
	}
	return x, nil
}
