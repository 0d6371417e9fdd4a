package pii

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/kms"
)

func (w *walker) fieldAEAD(lf *leaf) (tink.AEAD, error) {
	if w.aead == nil {
		a, err := w.p.keys.AEAD(w.ctx, w.p.opts.FieldKeyset)
		if err != nil {
			return nil, w.errf(lf, err)
		}
		w.aead = a
	}
	return w.aead, nil
}

// leafText returns the current content of a string, []byte or *string
// leaf as a string (a read-only view for []byte).
func leafText(lf *leaf, fv reflect.Value) string {
	switch lf.op {
	case leafString:
		return fv.String()
	case leafBytes:
		b := fv.Bytes()
		return unsafe.String(unsafe.SliceData(b), len(b))
	case leafStringPtr:
		if fv.IsNil() {
			return ""
		}
		return fv.Elem().String()
	}
	return ""
}

// set records the assignment of a new content to a leaf.
func (w *walker) set(lf *leaf, fv reflect.Value, s string, b []byte) {
	switch lf.op {
	case leafString:
		w.pending = append(w.pending, assign{op: setString, dst: fv, s: s})
	case leafBytes:
		if b == nil {
			b = []byte(s)
		}
		w.pending = append(w.pending, assign{op: setBytes, dst: fv, b: b})
	case leafStringPtr:
		w.pending = append(w.pending, assign{op: setStringPtr, dst: fv, s: s})
	}
}

func (w *walker) setBox(fv reflect.Value, box any) {
	w.pending = append(w.pending, assign{op: setBox, dst: fv, box: reflect.ValueOf(box)})
}

// setIndex records the blind index of plaintext for leaf lf of struct sv.
func (w *walker) setIndex(lf *leaf, sv reflect.Value, plaintext string) error {
	iv := sv.Field(lf.search)
	norm := w.p.normalizeKind(lf.kind, plaintext)
	if norm == "" {
		if iv.String() != "" {
			w.pending = append(w.pending, assign{op: setString, dst: iv, s: ""})
		}
		return nil
	}
	if w.idx == nil {
		st, err := w.p.indexKeys(w.ctx)
		if err != nil {
			return w.errf(lf, err)
		}
		w.idx = st
	}
	w.scratch = appendDomain(w.scratch[:0], w.rec, w.path, lf.seg)
	v, err := w.idx.compute(w.idx.set.PrimaryID, w.scratch, norm, w.p.opts.IndexBits, &w.key)
	if err != nil {
		return w.errf(lf, err)
	}
	if iv.String() != v {
		w.pending = append(w.pending, assign{op: setString, dst: iv, s: v})
	}
	return nil
}

func (w *walker) sealLeaf(lf *leaf, sv reflect.Value) error {
	fv := sv.Field(lf.index)
	if lf.op == leafValue {
		return w.sealValue(lf, fv)
	}
	text := leafText(lf, fv)
	if text == "" {
		if lf.search >= 0 {
			return w.setIndex(lf, sv, "")
		}
		return nil
	}
	if lf.token != "" {
		return w.tokenize(lf, sv, fv, text)
	}
	if marked(text) {
		// Already sealed: check that it opens here, so that a ciphertext
		// copied from elsewhere (or a plaintext that looks like one) is
		// refused rather than kept or encrypted twice.
		pt, err := w.decrypt(lf, text)
		if err != nil {
			if errors.Is(err, kms.ErrDisabled) || errors.Is(err, kms.ErrDestroyed) {
				return nil // a retired version: it cannot be checked, and is kept
			}
			return err
		}
		if lf.search >= 0 && sv.Field(lf.search).String() == "" {
			return w.setIndex(lf, sv, bytesToString(pt))
		}
		return nil
	}
	if len(text) > MaxValueSize {
		return w.errf(lf, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(text), MaxValueSize))
	}
	enc, err := w.encrypt(lf, unsafe.Slice(unsafe.StringData(text), len(text)))
	if err != nil {
		return err
	}
	w.set(lf, fv, bytesToString(enc), enc)
	if lf.search >= 0 {
		return w.setIndex(lf, sv, text)
	}
	return nil
}

func (w *walker) sealValue(lf *leaf, fv reflect.Value) error {
	vf := fv.Addr().Interface().(valueField)
	switch vf.piiState() {
	case valueEmpty:
		return nil
	case valueMasked:
		return w.errf(lf, fmt.Errorf("%w: the value holds a mask from Redact, which must not be sealed", ErrSealed))
	case valueSealed:
		if _, err := w.decrypt(lf, vf.piiText()); err != nil && !errors.Is(err, kms.ErrDisabled) && !errors.Is(err, kms.ErrDestroyed) {
			return err
		}
		return nil
	}
	plain, err := vf.piiPlain()
	if err != nil {
		return w.errf(lf, err)
	}
	if len(plain) > MaxValueSize {
		return w.errf(lf, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(plain), MaxValueSize))
	}
	enc, err := w.encrypt(lf, plain)
	if err != nil {
		return err
	}
	w.setBox(fv, vf.piiWithText(bytesToString(enc), true))
	return nil
}

func (w *walker) encrypt(lf *leaf, plain []byte) ([]byte, error) {
	a, err := w.fieldAEAD(lf)
	if err != nil {
		return nil, err
	}
	ad, err := w.ad(lf)
	if err != nil {
		return nil, err
	}
	ct, err := a.Encrypt(plain, ad)
	if err != nil {
		return nil, w.errf(lf, err)
	}
	return encodeCiphertext(ct), nil
}

// decrypt opens a marked value of leaf lf.
func (w *walker) decrypt(lf *leaf, text string) ([]byte, error) {
	raw, keyID, err := w.parse(text)
	if err != nil {
		return nil, w.errf(lf, err)
	}
	return w.decryptRaw(lf, raw, keyID)
}

// parse decodes a marked value into the walker's ciphertext buffer, which
// the next parse overwrites.
func (w *walker) parse(text string) ([]byte, uint32, error) {
	raw, keyID, err := appendCiphertext(w.raw, text)
	if err == nil {
		w.raw = raw[:0]
	}
	return raw, keyID, err
}

// decryptRaw opens a parsed ciphertext of leaf lf made with key keyID.
func (w *walker) decryptRaw(lf *leaf, raw []byte, keyID uint32) ([]byte, error) {
	a, err := w.fieldAEAD(lf)
	if err != nil {
		return nil, err
	}
	ad, err := w.ad(lf)
	if err != nil {
		return nil, err
	}
	pt, err := a.Decrypt(raw, ad)
	if err != nil {
		return nil, w.errf(lf, decryptErr(err, keyID))
	}
	return pt, nil
}

// decryptErr classifies a decryption error. Errors from the key ring keep
// their kms sentinel (a disabled or destroyed version, an unreachable
// store); an authentication failure also wraps ErrInvalidCiphertext. The
// text of an unclassified error is dropped.
func decryptErr(err error, keyID uint32) error {
	switch {
	case errors.Is(err, kms.ErrNotFound):
		return &joined{fmt.Sprintf("%v: made with key version %d, which the field keyset does not have", ErrInvalidCiphertext, keyID), []error{ErrInvalidCiphertext, err}}
	case errors.Is(err, kms.ErrInvalidCiphertext):
		return &joined{notHere, []error{ErrInvalidCiphertext, err}}
	case kms.ErrorCode(err) != kms.CodeBackend, errors.Is(err, kms.ErrBackend):
		return err
	}
	return &joined{notHere, []error{ErrInvalidCiphertext}}
}

const notHere = "pii: invalid ciphertext: it does not open as this record's type, field and ID (copied from elsewhere, or tampered with)"

// joined is an error with its own message that wraps several errors.
type joined struct {
	msg  string
	errs []error
}

func (e *joined) Error() string   { return e.msg }
func (e *joined) Unwrap() []error { return e.errs }

func (w *walker) tokenizer(lf *leaf) (Tokenizer, error) {
	t := w.p.opts.Tokenizers[lf.token]
	if t == nil {
		return nil, w.errf(lf, fmt.Errorf("%w: the field is tagged token=%s, but Options.Tokenizers has no %q", ErrNoTokenizer, lf.token, lf.token))
	}
	// A tokenizer whose tokens cannot be told from values (a format-
	// preserving token that keeps a valid check digit, say) would make Seal
	// tokenize its own tokens again: refuse it for in-place tokenization.
	if r, ok := t.(interface{ RecognizesTokens(domain string) bool }); ok && !r.RecognizesTokens(string(lf.kind)) {
		return nil, w.errf(lf, fmt.Errorf("%w: tokenizer %q cannot tell its %s tokens from values, so tokenizing in place would not be idempotent; use a marked format", ErrNoTokenizer, lf.token, lf.kind))
	}
	return t, nil
}

// irreversible reports whether t makes tokens that cannot be turned back
// into values (HMAC tokens): Open leaves such a field holding its token.
func irreversible(t Tokenizer) bool {
	r, ok := t.(interface{ Reversible() bool })
	return ok && !r.Reversible()
}

func (w *walker) tokenize(lf *leaf, sv, fv reflect.Value, text string) error {
	t, err := w.tokenizer(lf)
	if err != nil {
		return err
	}
	domain := string(lf.kind)
	if t.IsToken(domain, text) {
		return nil
	}
	if len(text) > MaxValueSize {
		return w.errf(lf, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(text), MaxValueSize))
	}
	if lf.op == leafBytes {
		text = strings.Clone(text) // a tokenizer may keep it; the caller may reuse the slice
	}
	tok, err := t.Tokenize(w.ctx, domain, text)
	if err != nil {
		return w.errf(lf, fmt.Errorf("pii: tokenize: %w", err))
	}
	w.set(lf, fv, tok, nil)
	if lf.search >= 0 {
		return w.setIndex(lf, sv, text)
	}
	return nil
}

// openLeaf opens one protected field for the caller, as far as the access
// decision lets it: allow sets the plaintext, mask the kind's mask, deny
// the zero value (without decrypting). Malformed values and plaintext are
// errors whatever the decision.
func (w *walker) openLeaf(lf *leaf, sv reflect.Value) error {
	fv := sv.Field(lf.index)
	if lf.op == leafValue {
		return w.openValue(lf, fv)
	}
	text := leafText(lf, fv)
	if text == "" {
		return nil // nothing to reveal: no decision, no event
	}
	if lf.token != "" {
		return w.detokenize(lf, fv, text)
	}
	if !marked(text) {
		return w.openPlaintext(lf, fv, text, nil)
	}
	return w.openSealed(lf, fv, text, nil)
}

func (w *walker) openValue(lf *leaf, fv reflect.Value) error {
	vf := fv.Addr().Interface().(valueField)
	switch vf.piiState() {
	case valueEmpty:
		return nil
	case valuePlain:
		return w.openPlaintext(lf, fv, "", vf)
	case valueMasked:
		return w.errf(lf, fmt.Errorf("%w: the value holds a mask from Redact", ErrPlaintext))
	}
	return w.openSealed(lf, fv, vf.piiText(), vf)
}

// openSealed opens the ciphertext text of leaf lf as the access decision
// allows and stores the result in fv: into the field itself, or, for a
// Value[T] field (vf not nil), as a new box.
func (w *walker) openSealed(lf *leaf, fv reflect.Value, text string, vf valueField) error {
	raw, keyID, err := w.parse(text)
	if err != nil {
		return w.errf(lf, err)
	}
	if _, err := w.recordID(); err != nil {
		return err // a ciphertext without its ID is an error, even if denied
	}
	path := w.pathString(lf.seg)
	d, err := w.decide(lf, path)
	if err != nil {
		return err
	}
	keyName := w.p.opts.FieldKeyset
	if d.Effect == access.Deny {
		w.withhold(lf, fv, path, d, keyName, keyID)
		return nil
	}
	pt, err := w.decryptRaw(lf, raw, keyID)
	if err != nil {
		return err
	}
	switch {
	case vf == nil && d.Effect == access.Mask:
		w.set(lf, fv, Mask(lf.kind, bytesToString(pt)), nil)
	case vf == nil:
		w.set(lf, fv, bytesToString(pt), pt)
	case d.Effect == access.Mask:
		w.setBox(fv, vf.piiWithText(Mask(lf.kind, bytesToString(pt)), false))
	default:
		box, err := vf.piiWithPlain(pt)
		if err != nil {
			return w.errf(lf, err)
		}
		w.setBox(fv, box)
	}
	w.note(lf, path, d, keyName, keyID)
	return nil
}

// detokenize opens a token= field.
func (w *walker) detokenize(lf *leaf, fv reflect.Value, text string) error {
	t, err := w.tokenizer(lf)
	if err != nil {
		return err
	}
	domain := string(lf.kind)
	if !t.IsToken(domain, text) {
		return w.openPlaintext(lf, fv, text, nil)
	}
	if irreversible(t) {
		// The token is the field's value by design (a join key): there is
		// nothing to reveal, and nothing to decide.
		return nil
	}
	path := w.pathString(lf.seg)
	d, err := w.decide(lf, path)
	if err != nil {
		return err
	}
	keyName := "token:" + lf.token
	if d.Effect == access.Deny {
		w.withhold(lf, fv, path, d, keyName, 0)
		return nil
	}
	v, err := t.Detokenize(w.ctx, domain, text)
	if err != nil {
		return w.errf(lf, fmt.Errorf("pii: detokenize: %w", err))
	}
	if d.Effect == access.Mask {
		v = Mask(lf.kind, v)
	}
	w.set(lf, fv, v, nil)
	w.note(lf, path, d, keyName, 0)
	return nil
}

// openPlaintext handles plaintext found by Open where a protected value
// belongs: an error, unless Options.MigrationModeAllowPlaintext, and then
// the access decision still applies (a plaintext field is masked or zeroed
// like a sealed one). vf is set for a Value field.
func (w *walker) openPlaintext(lf *leaf, fv reflect.Value, text string, vf valueField) error {
	if !w.p.opts.MigrationModeAllowPlaintext {
		return w.errf(lf, fmt.Errorf("%w: the field is not sealed (Options.MigrationModeAllowPlaintext is off)", ErrPlaintext))
	}
	path := w.pathString(lf.seg)
	d, err := w.decide(lf, path)
	if err != nil {
		return err
	}
	switch d.Effect {
	case access.Deny:
		w.withhold(lf, fv, path, d, "", 0)
		return nil
	case access.Mask:
		if vf != nil {
			m := "***"
			if b, err := vf.piiPlain(); err == nil {
				m = Mask(lf.kind, bytesToString(b))
			}
			w.setBox(fv, vf.piiWithText(m, false))
		} else {
			w.set(lf, fv, Mask(lf.kind, text), nil)
		}
	}
	w.note(lf, path, d, "", 0)
	return nil
}

func (w *walker) redactLeaf(lf *leaf, sv reflect.Value) {
	fv := sv.Field(lf.index)
	if lf.search >= 0 && sv.Field(lf.search).String() != "" {
		w.pending = append(w.pending, assign{op: setString, dst: sv.Field(lf.search), s: ""})
	}
	if lf.op == leafValue {
		vf := fv.Addr().Interface().(valueField)
		switch vf.piiState() {
		case valueSealed:
			w.setBox(fv, vf.piiWithText(SealedMask, false))
		case valuePlain:
			m := "***"
			if b, err := vf.piiPlain(); err == nil {
				m = Mask(lf.kind, string(b))
			}
			w.setBox(fv, vf.piiWithText(m, false))
		}
		return
	}
	text := leafText(lf, fv)
	if text == "" {
		return
	}
	m := SealedMask
	if !marked(text) {
		m = Mask(lf.kind, text)
	}
	w.set(lf, fv, m, nil)
}
