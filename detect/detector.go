package detect

import (
	"fmt"
	"sync"
)

// DefaultMinConfidence is the confidence at or above which a Detector
// reports a span when Options.MinConfidence is zero.
const DefaultMinConfidence = 0.5

// defaultPhoneRegions are the regions whose national phone forms (without
// "+" and a country code) a Detector recognizes when Options.PhoneRegions
// is nil.
var defaultPhoneRegions = []string{"CN", "US", "GB"}

// Options configure a Detector. The zero value finds every kind, reports
// spans of confidence 0.5 and above, and reads national phone forms of
// China, the United States and the United Kingdom.
type Options struct {
	// Kinds limits detection to these kinds; nil means every kind.
	Kinds []Kind
	// MinConfidence is the lowest confidence reported, in (0, 1]; zero
	// means DefaultMinConfidence. Lower finds more and is wrong more
	// often: 0.3 reports bare 12-digit numbers that pass the My Number
	// check and 9-digit numbers that could be SSNs.
	MinConfidence float64
	// PhoneRegions are the ISO 3166 region codes ("CN", "JP") whose
	// national forms, without "+" and a country code, are read as phone
	// numbers; nil means CN, US and GB. Numbers written with "+" are read
	// for every region whatever this says.
	PhoneRegions []string
}

// Detector finds personal data in text. It is immutable and safe for
// concurrent use; build one with New and share it.
type Detector struct {
	kinds   kindSet
	min     float64
	regions []*phonePlan // the national forms read, in the order given
}

// New returns a Detector configured by opts. It fails with an error
// wrapping ErrUnknownKind or ErrUnknownRegion when opts names a kind or a
// region that does not exist, and fails on a MinConfidence outside [0, 1].
func New(opts Options) (*Detector, error) {
	d := &Detector{min: opts.MinConfidence}
	if d.min == 0 {
		d.min = DefaultMinConfidence
	}
	if d.min < 0 || d.min > 1 {
		return nil, fmt.Errorf("detect: MinConfidence %v is not in [0, 1]", opts.MinConfidence)
	}
	if opts.Kinds == nil {
		opts.Kinds = Kinds()
	}
	for _, k := range opts.Kinds {
		if k == 0 || k >= numKinds {
			return nil, fmt.Errorf("detect: %w %s", ErrUnknownKind, k)
		}
		d.kinds |= 1 << k
	}
	regions := opts.PhoneRegions
	if regions == nil {
		regions = defaultPhoneRegions
	}
	tables := phoneTables()
	for _, r := range regions {
		p, ok := tables.byRegion[r]
		if !ok {
			return nil, fmt.Errorf("detect: %w %q", ErrUnknownRegion, r)
		}
		d.regions = append(d.regions, p)
	}
	return d, nil
}

// Default returns a Detector with the zero Options, built once.
func Default() *Detector { return defaultDetector() }

var defaultDetector = sync.OnceValue(func() *Detector {
	d, err := New(Options{})
	if err != nil {
		panic(err) // the zero Options are valid
	}
	return d
})

// Find returns the spans of personal data in text, in order and without
// overlaps.
func (d *Detector) Find(text []byte) []Span {
	return findAll(d, nil, text, "")
}

// FindString is Find for a string.
func (d *Detector) FindString(s string) []Span {
	return findAll(d, nil, s, "")
}

// FindField returns the spans in the value of a named field: a JSON key, a
// CSV column, a database column. The name counts as the nearest context
// word, so that a value "1985-03-12" in a field "birth_date" is a date of
// birth, and a 12-digit number in "my_number" a My Number.
func (d *Detector) FindField(name, value string) []Span {
	return findAll(d, nil, value, name)
}

// findAll scans all of s.
func findAll[T text](d *Detector, dst []Span, s T, hint string) []Span {
	sc := scan[T]{d: d, s: s, hint: hint, limit: len(s), out: dst, above: -1}
	sc.run(0)
	return sc.out
}
