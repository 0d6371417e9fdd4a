package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/piiguard/piiguard/internal/keyedprf"
	"github.com/piiguard/piiguard/kms"
)

// Seal protects the tagged fields of the record record points to: it
// encrypts each into a ciphertext bound to the record type, the field path
// and the record ID, fills blind indexes, and tokenizes token= fields.
// Empty values stay empty; values that are already sealed are left as they
// are after checking that they open in their place (Seal is idempotent).
//
// Seal changes the record only if it succeeds for every field: on error
// the record is as it was. Errors are *FieldError values (for errors.As)
// wrapping this package's sentinels, and never contain a value.
func (p *Protector) Seal(ctx context.Context, record any) error {
	return seal(ctx, p, record, false)
}

// SealAll seals every record of records: a slice of structs or of pointers
// to structs, or a pointer to an array of them. It changes the records only
// if it succeeds for all of them.
func (p *Protector) SealAll(ctx context.Context, records any) error {
	return seal(ctx, p, records, true)
}

// sealer is the visitor of Seal and SealAll: it encrypts each protected
// field (or tokenizes it, for token=) and fills its blind index.
type sealer struct {
	call
	idx     *keyedprf.Keys // the search keyset's, fetched on first use
	scratch []byte         // index domains and MACs
}

var sealers = sync.Pool{New: func() any { return new(sealer) }}

func seal(ctx context.Context, p *Protector, v any, batch bool) error {
	rs, err := gatherBound(ctx, "Seal", v, batch)
	if err != nil || rs.rp == nil {
		return err
	}
	s := sealers.Get().(*sealer)
	defer s.release()
	s.begin(ctx, p, &rs)
	if err := rs.each(func(r reflect.Value) error { return s.record(s, r) }); err != nil {
		return err
	}
	s.changes.apply()
	return nil
}

func (s *sealer) release() {
	s.call.end()
	s.idx = nil
	s.scratch = s.scratch[:0]
	sealers.Put(s)
}

func (s *sealer) field(st *step, sv reflect.Value) error {
	fv := fieldAt(sv, st.at)
	if st.leaf.op == leafValue {
		return s.value(st, fv)
	}
	text := leafText(st.leaf.op, fv)
	if text == "" {
		if st.searchAt != nil {
			return s.index(st, sv, "")
		}
		return nil
	}
	if st.leaf.token != "" {
		return s.tokenize(st, sv, fv, text)
	}
	if marked(text) {
		// Already sealed: check that it opens here, so that a ciphertext
		// copied from elsewhere (or a plaintext that looks like one) is
		// refused rather than kept or encrypted twice.
		pt, err := s.decrypt(st, text)
		if err != nil {
			if retired(err) {
				return nil // it cannot be checked, and is kept
			}
			return err
		}
		if st.searchAt != nil && fieldAt(sv, st.searchAt).String() == "" {
			return s.index(st, sv, bytesToString(pt))
		}
		return nil
	}
	if len(text) > MaxValueSize {
		return s.errAt(st, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(text), MaxValueSize))
	}
	enc, err := s.encrypt(st, unsafe.Slice(unsafe.StringData(text), len(text)))
	if err != nil {
		return err
	}
	s.changes.set(st.leaf.op, fv, enc)
	if st.searchAt != nil {
		return s.index(st, sv, text)
	}
	return nil
}

// retired reports whether err says a value was sealed under a disabled or
// destroyed key version: Seal keeps such a value as it is.
func retired(err error) bool {
	return errors.Is(err, kms.ErrDisabled) || errors.Is(err, kms.ErrDestroyed)
}

// value seals a Value[T] field.
func (s *sealer) value(st *step, fv reflect.Value) error {
	vf := fv.Addr().Interface().(valueField)
	switch vf.piiState() {
	case valueEmpty:
		return nil
	case valueMasked:
		return s.errAt(st, fmt.Errorf("%w: the value holds a mask from Redact, which must not be sealed", ErrSealed))
	case valueSealed:
		if _, err := s.decrypt(st, vf.piiText()); err != nil && !retired(err) {
			return err
		}
		return nil
	}
	plain, err := vf.piiPlain()
	if err != nil {
		return s.errAt(st, err)
	}
	if len(plain) > MaxValueSize {
		return s.errAt(st, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(plain), MaxValueSize))
	}
	enc, err := s.encrypt(st, plain)
	if err != nil {
		return err
	}
	s.changes.setBox(fv, vf.piiWithText(enc, true))
	return nil
}

// tokenize replaces the value of a token= field by its token.
func (s *sealer) tokenize(st *step, sv, fv reflect.Value, text string) error {
	t, err := tokenizerFor(s.p.opts.Tokenizers, st.leaf.token, st.leaf.kind)
	if err != nil {
		return s.errAt(st, err)
	}
	domain := string(st.leaf.kind)
	if t.IsToken(domain, text) {
		return nil
	}
	if len(text) > MaxValueSize {
		return s.errAt(st, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(text), MaxValueSize))
	}
	if st.leaf.op == leafBytes {
		text = strings.Clone(text) // a tokenizer may keep it; the caller may reuse the slice
	}
	tok, err := t.Tokenize(s.ctx, domain, text)
	if err != nil {
		return s.errAt(st, fmt.Errorf("pii: tokenize: %w", err))
	}
	s.changes.setCopy(st.leaf.op, fv, tok)
	if st.searchAt != nil {
		return s.index(st, sv, text)
	}
	return nil
}

// index sets the blind index of plaintext, the value of the field of step
// st of struct sv.
func (s *sealer) index(st *step, sv reflect.Value, plaintext string) error {
	iv := fieldAt(sv, st.searchAt)
	norm := s.p.normalizeKind(st.leaf.kind, plaintext)
	if norm == "" {
		if iv.String() != "" {
			s.changes.set(leafString, iv, "")
		}
		return nil
	}
	if s.idx == nil {
		idx, err := s.p.indexKeys(s.ctx)
		if err != nil {
			return s.errAt(st, err)
		}
		s.idx = idx
	}
	s.scratch = appendFieldPath(append(append(s.scratch[:0], s.bind.rec...), 0), s.prefix, st.path)
	v, err := indexValue(s.idx, s.idx.PrimaryID(), s.scratch, norm)
	if err != nil {
		return s.errAt(st, err)
	}
	if iv.String() != v {
		s.changes.set(leafString, iv, v)
	}
	return nil
}
