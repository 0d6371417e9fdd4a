package detect

import "github.com/piiguard/piiguard/internal/luhn"

// Payment cards: 13 to 19 digits that pass the Luhn check (ISO/IEC
// 7812-1), start with an issuer identification number of a card network
// and have one of that network's lengths, written bare or in the groups
// printed on cards (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3).

// issuer is a range of IIN prefixes of one length in digits, and the card
// lengths the network issues in it.
type issuer struct {
	lo, hi int // inclusive, of the first digits
	digits int // how many first digits lo and hi are
	minLen int
	maxLen int
}

// issuers: the networks' published ranges.
var issuers = []issuer{
	{4, 4, 1, 13, 19},           // Visa (13, 16, 19; 13–19 allowed here)
	{51, 55, 2, 16, 16},         // Mastercard
	{2221, 2720, 4, 16, 16},     // Mastercard 2-series
	{34, 34, 2, 15, 15},         // American Express
	{37, 37, 2, 15, 15},         // American Express
	{6011, 6011, 4, 16, 19},     // Discover
	{644, 649, 3, 16, 19},       // Discover
	{65, 65, 2, 16, 19},         // Discover
	{3528, 3589, 4, 16, 19},     // JCB
	{62, 62, 2, 16, 19},         // UnionPay
	{300, 305, 3, 14, 19},       // Diners Club Carte Blanche
	{3095, 3095, 4, 14, 19},     // Diners Club International
	{36, 36, 2, 14, 19},         // Diners Club International
	{38, 39, 2, 14, 19},         // Diners Club International
	{2200, 2204, 4, 16, 19},     // Mir
	{5018, 5018, 4, 13, 19},     // Maestro
	{5020, 5020, 4, 13, 19},     // Maestro
	{5038, 5038, 4, 13, 19},     // Maestro
	{5893, 5893, 4, 13, 19},     // Maestro
	{6304, 6304, 4, 13, 19},     // Maestro
	{6759, 6759, 4, 13, 19},     // Maestro
	{6761, 6763, 4, 13, 19},     // Maestro
	{60, 60, 2, 16, 16},         // RuPay
	{9792, 9792, 4, 16, 16},     // Troy
	{506099, 506198, 6, 16, 19}, // Verve
}

// inIssuerRange reports whether d (ASCII digits) starts with a known IIN
// and has a length that network issues.
func inIssuerRange(d []byte) bool {
	for _, is := range issuers {
		if len(d) < is.minLen || len(d) > is.maxLen || len(d) < is.digits {
			continue
		}
		p := 0
		for _, c := range d[:is.digits] {
			p = p*10 + int(c-'0')
		}
		if p >= is.lo && p <= is.hi {
			return true
		}
	}
	return false
}

// card validates c as a payment card number.
func (sc *scan[T]) card(c *cand) (float64, bool) {
	n := len(c.d)
	if n < 13 || n > 19 || c.d[n-1] == 'X' {
		return 0, false
	}
	base := 0.85
	switch {
	case c.single():
	case c.sameSep() && c.seps(" -") &&
		(c.sizes(4, 4, 4, 4) || c.sizes(4, 6, 5) || c.sizes(4, 6, 4) || c.sizes(4, 4, 4, 4, 3) || c.sizes(4, 4, 4, 1) || c.sizes(4, 4, 4, 3) || c.sizes(4, 4, 5)):
		base = 0.9 // grouped as printed on a card
	default:
		return 0, false
	}
	if !inIssuerRange(c.d) || !luhn.Valid(string(c.d)) {
		return 0, false
	}
	return score(base, 0.98, sc.ctx(c.start, c.end, Card)), true
}
