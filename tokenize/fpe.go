package tokenize

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/prf"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/internal/luhn"
	"github.com/piiguard/piiguard/internal/phone"
	"github.com/piiguard/piiguard/tokenize/internal/ff1"
)

// fpeKeyLabel is the PRF input that derives a version's FF1 key (AES-256).
const fpeKeyLabel = "piiguard/tokenize/fpe/v1/aes-256"

// FPE makes format-preserving tokens with FF1 (NIST SP 800-38G): a card
// number becomes another card number with the same issuer and last four
// digits, a phone number another phone number of the same country, a
// resident ID another well-formed resident ID. They fit the columns,
// validations and screens of systems that expect the original shape.
//
// Each domain has a Format. The FF1 key (AES-256) is derived from one
// version of a PRF keyset (kms.PurposePRF, default DefaultFPEKeyset) and the
// tweak from the domain, the format and the characters kept. The tokens
// hold no key ID: the version is pinned by FPEOptions.KeyID (see the
// package documentation on rotation).
//
// FF1 has no integrity: a token of another domain or a typo decrypts,
// without an error, to a wrong value of the right shape. An FPE is safe
// for concurrent use.
type FPE struct {
	base
	keys    PRFKeys
	formats map[string]Format
	keyID   uint32 // FPEOptions.KeyID
	state   atomic.Pointer[fpeState]
}

// NewFPE returns an FPE tokenizer over the PRF keyset opts.Keyset
// (default DefaultFPEKeyset) of keys, for the domains of formats, each
// with its Format; other domains fail with ErrInvalidDomain. It makes no
// call to keys.
func NewFPE(keys PRFKeys, formats map[string]Format, opts FPEOptions) (*FPE, error) {
	b := base{kind: "fpe", keyset: opts.Keyset, authz: opts.Authorize, country: opts.DefaultCountryCode, audit: opts.Audit, clock: opts.Clock}
	if err := b.init(DefaultFPEKeyset); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "nil key source"))
	}
	if len(formats) == 0 {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "no formats"))
	}
	for domain, f := range formats {
		if !validDomain(domain) {
			return nil, b.fail("new", "", errf(ErrInvalidOptions, "a formats key is not a domain name of 1 to 64 characters of [A-Za-z0-9._-]"))
		}
		if err := f.validate(); err != nil {
			return nil, b.fail("new", domain, err)
		}
	}
	return &FPE{base: b, keys: keys, formats: maps.Clone(formats), keyID: opts.KeyID}, nil
}

// fpeState holds the FF1 ciphers derived from one PRF set, replaced when
// the key source hands out another set.
type fpeState struct {
	set *prf.Set

	mu      sync.RWMutex
	ciphers map[fpeCipherKey]*ff1.Cipher
}

type fpeCipherKey struct {
	id    uint32
	radix int
}

// current returns the state of the keyset's current PRF set (a new state
// when the key source hands out a new set).
func (t *FPE) current(ctx context.Context) (*fpeState, error) {
	set, err := t.keys.PRF(ctx, t.keyset)
	if err != nil {
		return nil, err
	}
	if set == nil {
		return nil, errf(ErrKeyVersion, "keyset %q has no PRF set", t.keyset)
	}
	if st := t.state.Load(); st != nil && st.set == set {
		return st, nil
	}
	st := &fpeState{set: set, ciphers: map[fpeCipherKey]*ff1.Cipher{}}
	t.state.Store(st)
	return st, nil
}

// version returns the pinned key version: FPEOptions.KeyID, or the only
// enabled version.
func (t *FPE) version(st *fpeState) (uint32, error) {
	id := t.keyID
	if id == 0 {
		if len(st.set.PRFs) != 1 {
			return 0, errf(ErrKeyVersion, "keyset %q has %d enabled versions and format-preserving tokens cannot say which made them: pin FPEOptions.KeyID", t.keyset, len(st.set.PRFs))
		}
		return st.set.PrimaryID, nil
	}
	return id, nil
}

// cipher returns the FF1 cipher of one key version and radix.
func (st *fpeState) cipher(keyset string, id uint32, radix int) (*ff1.Cipher, error) {
	k := fpeCipherKey{id, radix}
	st.mu.RLock()
	c := st.ciphers[k]
	st.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	p, ok := st.set.PRFs[id]
	if !ok {
		return nil, errf(ErrKeyVersion, "version %d of keyset %q is not enabled", id, keyset)
	}
	key, err := p.ComputePRF([]byte(fpeKeyLabel), 32)
	if err != nil {
		return nil, errf(ErrKeyVersion, "deriving the FF1 key with version %d of keyset %q failed", id, keyset)
	}
	c, err = ff1.NewAES(key, radix, ff1.Options{})
	clear(key)
	if err != nil {
		return nil, errf(ErrInvalidOptions, "FF1: %v", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if prev := st.ciphers[k]; prev != nil {
		return prev, nil
	}
	st.ciphers[k] = c
	return c, nil
}

// format returns the format of domain.
func (t *FPE) format(op, domain string) (Format, error) {
	if err := t.checkDomain(op, domain); err != nil {
		return Format{}, err
	}
	f, ok := t.formats[domain]
	if !ok {
		// Not named: a domain that is not configured may be a value passed
		// by mistake.
		return Format{}, &Error{Kind: t.kind, Op: op, Err: errf(ErrInvalidDomain, "this FPE tokenizer has no Format for the domain")}
	}
	return f, nil
}

// known returns domain if it is configured, else "": what errors and
// audit events may name.
func (t *FPE) known(domain string) string {
	if _, ok := t.formats[domain]; ok {
		return domain
	}
	return ""
}

// Tokenize returns the format-preserving token of value in domain.
func (t *FPE) Tokenize(ctx context.Context, domain, value string) (string, error) {
	tok, id, err := t.crypt(ctx, domain, value, 0, false)
	if err := t.finish(ctx, audit.ActionTokenize, "tokenize", t.keyset, t.known(domain), id, err); err != nil {
		return "", err
	}
	return tok, nil
}

// TokenizeBatch tokenizes values in domain, in order. It fails on the
// first value that cannot be tokenized, saying which (by index).
func (t *FPE) TokenizeBatch(ctx context.Context, domain string, values []string) ([]string, error) {
	out := make([]string, len(values))
	for i, v := range values {
		tok, err := t.Tokenize(ctx, domain, v)
		if err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = tok
	}
	return out, nil
}

// Detokenize returns the value of a token of domain, after asking
// FPEOptions.Authorize. Only the grammar of the token is checked (and its
// marker, for marked formats): FF1 cannot tell a token made elsewhere.
func (t *FPE) Detokenize(ctx context.Context, domain, token string) (string, error) {
	var (
		v   string
		id  uint32
		err error
	)
	if _, err = t.format("detokenize", domain); err == nil {
		if err = t.authorize(ctx, domain); err == nil {
			v, id, err = t.crypt(ctx, domain, token, 0, true)
		}
	}
	if err := t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, t.known(domain), id, err); err != nil {
		return "", err
	}
	return v, nil
}

// DetokenizeBatch detokenizes tokens of domain, in order, asking
// FPEOptions.Authorize once for the batch. It fails on the first token that
// cannot be detokenized, saying which (by index).
func (t *FPE) DetokenizeBatch(ctx context.Context, domain string, tokens []string) ([]string, error) {
	if _, err := t.format("detokenize", domain); err != nil {
		return nil, err
	}
	if err := t.authorize(ctx, domain); err != nil {
		return nil, t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, t.known(domain), 0, err)
	}
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		v, id, err := t.crypt(ctx, domain, tok, 0, true)
		if err := t.finish(ctx, audit.ActionDetokenize, "detokenize", t.keyset, t.known(domain), id, err); err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = v
	}
	return out, nil
}

// Rekey returns token, made with key version from, re-made with key
// version to: the step of the pass that moves a column of FPE tokens to a
// new version after a rotation (see the package documentation). Both
// versions must be enabled. It reveals nothing to the caller, so
// FPEOptions.Authorize is not asked; it is audited as a tokenization.
func (t *FPE) Rekey(ctx context.Context, domain, token string, from, to uint32) (string, error) {
	if from == 0 || to == 0 {
		return "", t.fail("rekey", t.known(domain), errf(ErrKeyVersion, "both key versions must be given"))
	}
	v, _, err := t.crypt(ctx, domain, token, from, true)
	if err != nil {
		return "", t.finish(ctx, audit.ActionTokenize, "rekey", t.keyset, t.known(domain), from, err)
	}
	tok, _, err := t.crypt(ctx, domain, v, to, false)
	if err := t.finish(ctx, audit.ActionTokenize, "rekey", t.keyset, t.known(domain), to, err); err != nil {
		return "", err
	}
	return tok, nil
}

// IsToken reports whether value is a token of domain, by the marker of
// its format. It is false for every value of a format without a marker
// (Numeric, Base36, Base62, Phone, unmarked Card and ChineseResidentID),
// whose tokens cannot be told from values: see RecognizesTokens.
func (t *FPE) IsToken(domain, value string) bool {
	f, ok := t.formats[domain]
	if !ok || !f.marked {
		return false
	}
	switch f.kind {
	case fmtCard:
		n := len(value)
		return n >= f.keepFirst+f.keepLast+ff1.MinLen(10) && n <= 19 && allDigits(value) && luhnResidue(value) == 1
	case fmtCNRID:
		if len(value) != luhn.GB11643Len || !allDigits(value[:17]) {
			return false
		}
		c, err := luhn.GB11643CheckChar(value[:17])
		return err == nil && value[17] == nextGBCheck(c)
	}
	return false
}

// RecognizesTokens reports whether IsToken tells tokens of domain from
// values: true only for the marked Card and ChineseResidentID formats.
// In-place tokenization (package pii) must not use a domain for which it
// is false: it could neither avoid tokenizing a token again nor tell a
// token from a plaintext when opening.
func (t *FPE) RecognizesTokens(domain string) bool {
	f, ok := t.formats[domain]
	return ok && f.recognizable()
}

// crypt tokenizes (decrypt false) or detokenizes a value of domain, with
// key version id (0 for the pinned one).
func (t *FPE) crypt(ctx context.Context, domain, s string, id uint32, decrypt bool) (string, uint32, error) {
	op := "tokenize"
	if decrypt {
		op = "detokenize"
	}
	f, err := t.format(op, domain)
	if err != nil {
		return "", 0, err
	}
	if len(s) > MaxValueSize {
		return "", 0, errf(ErrInvalidValue, "%d bytes, more than %d", len(s), MaxValueSize)
	}
	// Parse before loading keys: bad input costs no key lookup.
	var job fpeJob
	if decrypt {
		job, err = f.parseToken(domain, s)
	} else {
		job, err = f.parseValue(domain, s, t.country)
	}
	if err != nil {
		return "", 0, err
	}
	st, err := t.current(ctx)
	if err != nil {
		return "", 0, err
	}
	if id == 0 {
		if id, err = t.version(st); err != nil {
			return "", 0, err
		}
	}
	c, err := st.cipher(t.keyset, id, f.alphabet().Radix())
	if err != nil {
		return "", id, err
	}
	out, err := f.run(c, job, decrypt)
	return out, id, err
}

// fpeJob is a parsed value or token: the kept parts, the numerals to
// encrypt or decrypt, and the tweak.
type fpeJob struct {
	prefix, suffix string
	middle         []uint16
	tweak          []byte
}

// parseValue reads a plaintext value of format f.
func (f Format) parseValue(domain, s, defaultCountry string) (fpeJob, error) {
	switch f.kind {
	case fmtCard:
		d, err := cardDigits(s)
		if err != nil {
			return fpeJob{}, err
		}
		if err := f.cardLength(d); err != nil {
			return fpeJob{}, err
		}
		if !luhn.Valid(d) {
			return fpeJob{}, errf(ErrCheckDigit, "the card number fails the Luhn check")
		}
		return f.split(domain, d)
	case fmtPhone:
		d, cc, err := phoneDigits(s, defaultCountry)
		if err != nil {
			return fpeJob{}, err
		}
		return f.phoneJob(domain, d, cc)
	case fmtCNRID:
		v, err := gbValue(s)
		if err != nil {
			return fpeJob{}, err
		}
		return f.split(domain, v[:luhn.GB11643Len-1])
	}
	if err := checkAlphabet(f.alphabet(), s); err != nil {
		return fpeJob{}, err
	}
	return f.split(domain, s)
}

// parseToken reads a token of format f, undoing its marker.
func (f Format) parseToken(domain, s string) (fpeJob, error) {
	bad := func(what string) (fpeJob, error) {
		return fpeJob{}, errf(ErrMalformedToken, "not a %s token: %s", f, what)
	}
	switch f.kind {
	case fmtCard:
		if !allDigits(s) {
			return bad("tokens are digits only")
		}
		if err := f.cardLength(s); err != nil {
			return bad("wrong length")
		}
		r := luhnResidue(s)
		switch {
		case f.marked && r != 1:
			return bad("no marker")
		case !f.marked && r != 0:
			return bad("it fails the Luhn check")
		}
		job, err := f.split(domain, s)
		if err != nil {
			return job, err
		}
		if f.marked {
			last := len(job.middle) - 1
			job.middle[last] = (job.middle[last] + 9) % 10
		}
		return job, nil
	case fmtPhone:
		if len(s) < 2 || s[0] != '+' || !allDigits(s[1:]) || len(s) > 16 {
			return bad("tokens are E.164 numbers")
		}
		d := s[1:]
		cc := phone.CountryCodeLen(d)
		return f.phoneJob(domain, d, cc)
	case fmtCNRID:
		if len(s) != luhn.GB11643Len || !allDigits(s[:17]) {
			return bad("tokens are 17 digits and a check character")
		}
		c, _ := luhn.GB11643CheckChar(s[:17])
		if f.marked {
			c = nextGBCheck(c)
		}
		if s[17] != c {
			return bad("wrong check character")
		}
		return f.split(domain, s[:17])
	}
	if checkAlphabet(f.alphabet(), s) != nil {
		return bad("a character is outside the alphabet")
	}
	return f.split(domain, s)
}

// cardLength checks the length of a card number's digits.
func (f Format) cardLength(d string) error {
	n := len(d)
	if n < 12 || n > 19 {
		return errf(ErrInvalidValue, "a card number has 12 to 19 digits, not %d", n)
	}
	if m := n - f.keepFirst - f.keepLast; m < ff1.MinLen(10) {
		return errf(ErrTooShort, "a %d-digit card number keeps %d+%d digits, leaving %d to encrypt; FF1 needs at least %d", n, f.keepFirst, f.keepLast, m, ff1.MinLen(10))
	}
	return nil
}

// split cuts s (in the format's alphabet) into kept parts and middle.
func (f Format) split(domain, s string) (fpeJob, error) {
	a := f.alphabet()
	n := utf8Len(s)
	m := n - f.keepFirst - f.keepLast
	if lo := ff1.MinLen(a.Radix()); m < lo {
		return fpeJob{}, errf(ErrTooShort, "%d characters, of which %d are encrypted; radix %d needs at least %d", n, max(m, 0), a.Radix(), lo)
	}
	if hi := maxLens[a.Radix()]; m > hi {
		return fpeJob{}, errf(ErrInvalidValue, "%d characters to encrypt, more than %d", m, hi)
	}
	// Every character is ASCII here (the alphabets are).
	job := fpeJob{prefix: s[:f.keepFirst], suffix: s[n-f.keepLast:]}
	mid := s[f.keepFirst : n-f.keepLast]
	job.middle = make([]uint16, len(mid))
	t := numerals[a.Radix()]
	for i := 0; i < len(mid); i++ {
		job.middle[i] = uint16(t[mid[i]] - 1)
	}
	job.tweak = tweak(domain, f.kind, job.prefix, job.suffix)
	return job, nil
}

// phoneJob builds the job of E.164 digits d whose country code is cc long.
func (f Format) phoneJob(domain, d string, cc int) (fpeJob, error) {
	nat := d[cc:]
	if len(nat) < ff1.MinLen(10) {
		return fpeJob{}, errf(ErrTooShort, "the national number has %d digits; FF1 needs at least %d", len(nat), ff1.MinLen(10))
	}
	job := fpeJob{prefix: "+" + d[:cc], middle: make([]uint16, len(nat))}
	for i := 0; i < len(nat); i++ {
		job.middle[i] = uint16(nat[i] - '0')
	}
	job.tweak = tweak(domain, f.kind, d[:cc])
	return job, nil
}

// run encrypts or decrypts the job's middle and assembles the result.
func (f Format) run(c *ff1.Cipher, job fpeJob, decrypt bool) (string, error) {
	step := c.Encrypt
	if decrypt {
		step = c.Decrypt
	}
	y, err := step(job.middle, job.tweak)
	if err != nil {
		return "", ff1Err(err)
	}
	if f.kind == fmtCard {
		// Cycle-walk: FF1 permutes all 10^m middles; keep applying it until
		// the middle has the Luhn contribution of the original, which makes
		// the result a permutation of the 10^(m-1) middles that keep the
		// number valid. It ends: the cycle through x returns to x.
		pos := f.keepLast
		want := luhnContribution(job.middle, pos)
		for luhnContribution(y, pos) != want {
			if y, err = step(y, job.tweak); err != nil {
				return "", ff1Err(err)
			}
		}
		if f.marked && !decrypt {
			// The last middle digit is at position keepLast = 4 from the
			// right, which Luhn does not double: +1 there adds 1 to the sum.
			y[len(y)-1] = (y[len(y)-1] + 1) % 10
		}
	}
	chars := f.alphabet().String()
	b := make([]byte, 0, len(job.prefix)+len(y)+len(job.suffix)+1)
	b = append(b, job.prefix...)
	for _, d := range y {
		b = append(b, chars[d])
	}
	b = append(b, job.suffix...)
	if f.kind == fmtCNRID {
		ch, err := luhn.GB11643CheckChar(string(b))
		if err != nil {
			return "", errf(ErrInvalidValue, "GB 11643 check character: %v", err)
		}
		if f.marked && !decrypt {
			ch = nextGBCheck(ch)
		}
		b = append(b, ch)
	}
	return string(b), nil
}

// ff1Err maps an FF1 error (which names lengths and positions only).
func ff1Err(err error) error {
	switch {
	case errors.Is(err, ff1.ErrDomainTooSmall):
		return errf(ErrTooShort, "%v", err)
	case errors.Is(err, ff1.ErrInvalidInput):
		return errf(ErrInvalidValue, "%v", err)
	}
	return errf(ErrInvalidOptions, "%v", err)
}

func utf8Len(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
