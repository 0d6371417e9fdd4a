package detect

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// ReplaceFunc returns what stands in a text instead of value, a span of
// kind: a token from a tokenizer, a hash, a placeholder. It is the hook
// through which a caller tokenizes instead of masking, without this
// package importing a tokenizer. It runs on the caller's goroutine and
// must be safe for concurrent use when the Redactor is shared; a
// tokenizer that needs a context or keys binds them when it builds the
// function. When it fails, the Redactor masks the value with Mask, so a
// failing tokenizer never lets a value through.
type ReplaceFunc func(kind Kind, value string) (string, error)

// RedactorOptions configure a Redactor. The zero value masks with Mask.
type RedactorOptions struct {
	// Replace, when set, replaces each value instead of Mask.
	Replace ReplaceFunc
}

// Redactor replaces the personal data a Detector finds: in strings and
// byte slices, in what passes through a Writer, in log records through a
// Handler. It is safe for concurrent use.
type Redactor struct {
	d       *Detector
	replace ReplaceFunc
}

// NewRedactor returns a Redactor over d (Default() when nil).
func NewRedactor(d *Detector, opts RedactorOptions) *Redactor {
	if d == nil {
		d = Default()
	}
	return &Redactor{d: d, replace: opts.Replace}
}

// Redact masks the personal data in s with the Default detector: a
// shorthand for NewRedactor(nil, RedactorOptions{}).String(s).
func Redact(s string) string {
	return defaultRedactor().String(s)
}

var defaultRedactor = sync.OnceValue(func() *Redactor { return NewRedactor(nil, RedactorOptions{}) })

// String returns s with every span replaced. It returns s itself, without
// copying, when s holds no personal data.
func (r *Redactor) String(s string) string {
	var small [8]Span
	spans := findAll(r.d, small[:0], s, "")
	if len(spans) == 0 {
		return s
	}
	return string(appendRedacted(r, make([]byte, 0, len(s)+8), s, 0, spans))
}

// Bytes returns b with every span replaced, in a new slice; b is not
// modified.
func (r *Redactor) Bytes(b []byte) []byte {
	spans := findAll(r.d, nil, b, "")
	return appendRedacted(r, make([]byte, 0, len(b)+8), b, 0, spans)
}

// appendRedacted appends s to dst with spans replaced; base is the offset
// of s[0] in the spans' coordinates.
func appendRedacted[T text](r *Redactor, dst []byte, s T, base int, spans []Span) []byte {
	at := 0
	for _, sp := range spans {
		start, end := sp.Start-base, sp.End-base
		dst = append(dst, s[at:start]...)
		dst = append(dst, r.replacement(sp.Kind, string(s[start:end]))...)
		at = end
	}
	return append(dst, s[at:]...)
}

func (r *Redactor) replacement(k Kind, value string) string {
	if r.replace != nil {
		if s, err := r.replace(k, value); err == nil {
			return s
		}
	}
	return Mask(k, value)
}

// Mask returns value, a span of kind, masked by the rules of its kind: an
// e-mail keeps its domain ("***@example.com"), a card and an SSN their
// last four digits ("****-****-****-1111", "***-**-6789"), a resident ID
// its last four characters, an IBAN its country and last four, a phone
// number its last two digits, an IPv4 address its first two octets and an
// IPv6 address its first two groups; dates of birth, NINOs, My Numbers
// and passport numbers are masked whole. Separators stay, and every
// letter or digit masked becomes one '*', so a masked value keeps the
// shape of the original and none of its other characters.
func Mask(kind Kind, value string) string {
	switch kind {
	case Email:
		if at := strings.LastIndexByte(value, '@'); at >= 0 {
			return "***" + value[at:]
		}
	case Card, SSN, CNID:
		return maskKeep(value, 0, 4)
	case IBAN:
		return maskKeep(value, 2, 4)
	case Phone:
		return maskKeep(value, 0, 2)
	case IP:
		if strings.Contains(value, ":") {
			parts := strings.SplitN(value, ":", 3)
			if len(parts) == 3 {
				return parts[0] + ":" + parts[1] + ":*"
			}
			return "*"
		}
		if parts := strings.Split(value, "."); len(parts) == 4 {
			return parts[0] + "." + parts[1] + ".*.*"
		}
	}
	return maskKeep(value, 0, 0)
}

// maskKeep replaces every letter and digit of v with '*' except the
// first `first` and the last `last` of them.
func maskKeep(v string, first, last int) string {
	n := 0
	for _, c := range v {
		if isAlnumRune(c) {
			n++
		}
	}
	var sb strings.Builder
	sb.Grow(len(v))
	i := 0
	for _, c := range v {
		if !isAlnumRune(c) {
			sb.WriteRune(c)
			continue
		}
		if i < first || i >= n-last {
			sb.WriteRune(c)
		} else {
			sb.WriteByte('*')
		}
		i++
	}
	return sb.String()
}

// isAlnumRune reports ASCII and full-width letters and digits.
func isAlnumRune(c rune) bool {
	return c < utf8.RuneSelf && isASCIIAlnum(byte(c)) || c >= '０' && c <= '９' || c >= 'Ａ' && c <= 'Ｚ' || c >= 'ａ' && c <= 'ｚ'
}
