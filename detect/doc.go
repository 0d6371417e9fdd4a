// Package detect finds personal data in free text: log lines, support
// notes, CSV rows, JSON, any stream of bytes. It is the leaf of piiguard
// that its log scrubbers, the scan command and the vet analyzer build on;
// it imports no other piiguard package.
//
// Struct tags protect the fields a team knows about. The leaks that make
// the news come from the others: an e-mail address in a log line, a
// resident ID in a free-text note, a phone number in an error message.
// A Detector finds them; a Redactor masks or tokenizes them in strings, in
// what passes through an io.Writer and in slog records.
//
// # Finding
//
// New builds a Detector (Default returns a shared one with the zero
// Options); Find, FindString and FindField return Spans, and a Scanner
// reads an io.Reader. A Span is byte offsets, a Kind, a confidence and the
// name of the recognizer that fired — never a copy of the value, so that
// spans can be logged, counted and put in errors.
//
// Every recognizer validates; none is a bare pattern:
//
//	email     RFC 5322 dot-atom local part (≤ 64 bytes), a domain of ≥ 2
//	          labels ending in a known or two-letter TLD (other TLDs at
//	          lower confidence), never a file extension ("icon@2x.png")
//	phone     libphonenumber's metadata (github.com/nyaruka/phonenumbers):
//	          length, national pattern and number type of the region;
//	          "+" and a calling code for every region, national forms for
//	          Options.PhoneRegions (CN, US, GB by default) written with
//	          their trunk prefix, NANP and Chinese mobiles without it
//	card      Luhn (ISO/IEC 7812-1), an issuer's IIN range and lengths
//	          (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Diners,
//	          Maestro, Mir, RuPay, Troy, Verve), bare or grouped as printed
//	cnid      GB 11643-1999: province code, a valid birth date, the ISO
//	          7064 MOD 11-2 check character (X or x); not the old 15-digit form
//	iban      ISO 13616: the country's length, mod 97, compact or in
//	          groups of four
//	ip        IPv4 octets without leading zeros, not inside a longer
//	          dotted run (versions, OIDs); IPv6 by netip; not loopback,
//	          unspecified, broadcast or netmask
//	ssn       not area 000, 666 or 900–999, group 00 or serial 0000, nor the
//	          voided advertising numbers; 123-45-6789 alone, other forms
//	          with context
//	nino      HMRC's rules: no D F I Q U V, no O second, not BG GB KN NK
//	          NT TN ZZ; a suffix A–D (without it, context is needed)
//	mynumber  the Individual Number check digit, with context only (one
//	          random 12-digit number in eleven passes)
//	dob       a valid date (nine written forms, 年月日 and month names
//	          included; as a date-time only at midnight), with context only
//	passport  letters and digits in the common national forms, with
//	          context only
//
// Full-width digits, hyphens, stops and spaces (１３８－１２３４…,
// U+3000) read as their ASCII forms, and a value glued to a word
// ("v1.2.3.4", a hex hash, a UUID's group) is not a value.
//
// # Context
//
// The nearest context word in English, Chinese or Japanese within the
// value's clause (up to 64 bytes before and 32 after, not past a comma,
// semicolon, bracket or line end) raises confidence ("card", "卡号",
// "手机", "身份证", "DOB", "マイナンバー") or lowers it ("order",
// "tracking", "invoice", "订单", "快递", "发票", "流水", "version"). A
// CSV header names the column of the row right below it; FindField takes
// a field name (a JSON key, a column) as the nearest word. Options.
// MinConfidence (0.5) decides what is reported.
//
// # Redacting
//
// Redact and Redactor.String mask with Mask, which keeps what identifies
// no one (an e-mail's domain, a card's last four digits, an IP's network)
// and the value's shape. RedactorOptions.Replace takes a ReplaceFunc, the
// hook through which a caller tokenizes instead (package tokenize plugs
// in here; this package does not import it); when it fails the value is
// masked. Redactor.NewWriter returns an io.Writer filter; NewHandler wraps
// a slog.Handler.
//
// # Limits and leakage
//
// Names and street addresses need named-entity recognition and are not
// detected: a detector of this kind finds identifiers with a structure,
// not every word that is personal. Numbers that only context tells apart
// (a bare 12-digit My Number, an SSN without dashes, a 10-digit US number)
// are missed without that context and found in a wrong one; a Luhn-valid
// number called a card is reported however it was meant. Lower-case
// IBANs and NINOs, quoted or non-ASCII e-mail addresses, IP-literal
// domains and 15-digit Chinese IDs are not recognized. The Handler
// formats non-string values with fmt to look into them, and logs them as
// text when they hold personal data. Detection is a net under the
// structural protections of package pii, not a replacement for them.
//
// # Accuracy and speed, measured
//
// TestAccuracy runs the Default detector over testdata/corpus.jsonl, 2,400
// English and Chinese snippets with 3,231 labelled values and 25 kinds of
// hard negative, generated by internal/corpus (fixed seed; go generate
// rewrites it) from the formats' rules before the detector was written. It
// prints precision, recall and F2 per kind (exact spans) and fails below
// F2 0.95 for card, cnid, iban, ssn, nino and mynumber and 0.90 for the
// others. At the time of writing: precision 1.000 for every kind; recall
// 0.979 for phone (numbers the generator drew from ranges libphonenumber
// does not allocate, and values next to a negative word), 0.994–1.000 for
// the others; F2 ≥ 0.98 for every kind. The corpus is synthetic: its
// negatives are the ones its author thought of, so real text will score
// lower.
//
// BenchmarkFind runs the detector and a plain regexp alternation of the
// same kinds (no validation) on 1 MiB of mixed log lines and on the
// PII-dense corpus. On the shared two-core machine of the time of writing
// the detector read mixed logs at about 120 MB per CPU-second and the
// PII-dense corpus at about 47, against 2.4 for the regexp; wall-clock
// figures were lower on a loaded machine, and the benchmark reports both.
// BenchmarkHandler measures the Handler: about 3.5 µs more per record of
// a message and five attributes than a bare JSON handler when clean, 6 µs
// when it has to rewrite the record.
//
// # Errors
//
// New returns errors wrapping ErrUnknownKind or ErrUnknownRegion;
// ParseKind ErrUnknownKind; a Writer ErrClosed after Close, and the
// underlying writer's error wrapped; a Scanner the reader's error with
// the offset. Messages name options, kinds and offsets, never text read.
package detect
