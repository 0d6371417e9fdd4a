// Package corpus generates and reads the labelled corpus that measures the
// accuracy of package detect: snippets of English and Chinese text (log
// lines, support notes, CSV rows, JSON objects) with the exact byte spans of
// the personal data they hold, and hard negatives that look like personal
// data and are not (order and tracking numbers, timestamps, UUIDs, hashes,
// version strings, Luhn-valid numbers that are not cards, 18-digit numbers
// that are not resident IDs).
//
// The generator is written from the formats' published rules (ISO/IEC 7812
// and the issuers' ranges, GB 11643-1999, ISO 13616 and ISO 7064 mod 97,
// the SSA's SSN rules, HMRC's NINO rules, the My Number check digit, the
// ITU and national numbering plans), not from package detect: it computes
// its own check characters and imports no piiguard package, so that a bug
// shared with the detector cannot make both agree.
//
// Labelling rules, which a human labeller would follow:
//   - a span covers the value exactly: the first to the last character of
//     an address or number, its internal separators included; a phone
//     number starts at its "+" or its opening parenthesis;
//   - a value is labelled by what the text says it is: a Luhn-valid number
//     called an order number is an order number, and a 12-digit number is a
//     My Number only where the text says so;
//   - a number that breaks its format's rules (a wrong check character, an
//     SSN area of 666, a NINO prefix HMRC never issues) is not labelled;
//   - dates of birth and passport numbers are labelled only where the text
//     says what they are; loopback and unspecified IP addresses (127.0.0.1,
//     ::1, 0.0.0.0) identify no one and are not labelled.
//
// Generate is deterministic for a seed; testdata/corpus.jsonl in package
// detect is Generate(DefaultSeed, DefaultSize), written by gencorpus, and a
// test there checks that the file is up to date.
package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Kinds of personal data the corpus labels, as written in the JSON.
const (
	Email    = "email"
	Phone    = "phone"
	Card     = "card"
	CNID     = "cnid"
	IBAN     = "iban"
	IP       = "ip"
	SSN      = "ssn"
	NINO     = "nino"
	MyNumber = "mynumber"
	DOB      = "dob"
	Passport = "passport"
)

// Kinds lists every kind the corpus labels.
var Kinds = []string{Email, Phone, Card, CNID, IBAN, IP, SSN, NINO, MyNumber, DOB, Passport}

// DefaultSeed and DefaultSize give the committed corpus.
const (
	DefaultSeed = 20240514
	DefaultSize = 2400
)

// Label is one labelled span: Text[Start:End] is personal data of Kind.
type Label struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Kind  string `json:"kind"`
}

// Snippet is one labelled piece of text.
type Snippet struct {
	ID    int     `json:"id"`
	Lang  string  `json:"lang"`  // "en" or "zh"
	Genre string  `json:"genre"` // "log", "note", "csv", "json"
	Text  string  `json:"text"`
	Spans []Label `json:"spans"`
	// Negatives names the hard negatives the snippet holds, for review.
	Negatives []string `json:"negatives,omitempty"`
}

// Write writes snippets as JSON Lines.
func Write(w io.Writer, snippets []Snippet) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range snippets {
		if err := enc.Encode(&snippets[i]); err != nil {
			return fmt.Errorf("corpus: snippet %d: %w", snippets[i].ID, err)
		}
	}
	return bw.Flush()
}

// Load reads a JSON Lines corpus written by Write.
func Load(path string) ([]Snippet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	var out []Snippet
	dec := json.NewDecoder(f)
	for {
		var s Snippet
		if err := dec.Decode(&s); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("corpus: %s: snippet %d: %w", path, len(out)+1, err)
		}
		out = append(out, s)
	}
}
