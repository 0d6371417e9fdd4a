package detect

import "fmt"

// Span is one piece of personal data found in a text: text[Start:End] is
// a value of Kind. A span carries offsets, never a copy of the value, so
// that spans can be logged, counted and returned in errors.
type Span struct {
	// Start and End are byte offsets: of the text given to Find, or from
	// the beginning of the stream for a Scanner.
	Start, End int
	Kind       Kind
	// Confidence, from 0 to 1, is how sure the recognizer is: the
	// strength of its validation, raised or lowered by the words around
	// the value. Find reports spans at or above Options.MinConfidence.
	Confidence float64
	// Recognizer names the rule that fired, such as "card/luhn" or
	// "phone/national"; the names are stable, for metrics and debugging.
	Recognizer string
}

// Len returns the length of the span in bytes.
func (s Span) Len() int { return s.End - s.Start }

// String describes the span without its value, as in
// "card [12,31) 0.95 card/luhn".
func (s Span) String() string {
	return fmt.Sprintf("%s [%d,%d) %.2f %s", s.Kind, s.Start, s.End, s.Confidence, s.Recognizer)
}
