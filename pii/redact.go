package pii

import (
	"reflect"
	"sync"
)

// Redact masks the tagged fields of the record record points to, in place
// and without any key, for logs and support screens: plaintext becomes its
// Mask for the field's kind, sealed values become "[sealed]", and blind
// index fields are emptied. The ID and untagged fields are kept. A redacted
// record must not be sealed or stored: its values are masks.
func Redact(record any) error {
	return redact(record)
}

// redactor is the visitor of Redact: it masks each protected field in
// place, without any key, and empties blind indexes.
type redactor struct {
	walker
}

var redactors = sync.Pool{New: func() any { return new(redactor) }}

func redact(v any) error {
	rs, err := gather("Redact", v, false)
	if err != nil || rs.rp == nil {
		return err
	}
	r := redactors.Get().(*redactor)
	defer r.release()
	r.begin(&rs)
	if err := r.record(r, rs.v); err != nil {
		return err
	}
	r.changes.apply()
	return nil
}

func (r *redactor) release() {
	r.end()
	redactors.Put(r)
}

func (r *redactor) field(s *step, sv reflect.Value) error {
	fv := fieldAt(sv, s.at)
	if s.searchAt != nil {
		if iv := fieldAt(sv, s.searchAt); iv.String() != "" {
			r.changes.set(leafString, iv, "")
		}
	}
	if s.leaf.op == leafValue {
		vf := fv.Addr().Interface().(valueField)
		switch vf.piiState() {
		case valueSealed:
			r.changes.setBox(fv, vf.piiWithText(SealedMask, false))
		case valuePlain:
			m := "***"
			if b, err := vf.piiPlain(); err == nil {
				m = Mask(s.leaf.kind, string(b))
			}
			r.changes.setBox(fv, vf.piiWithText(m, false))
		}
		return nil
	}
	text := leafText(s.leaf.op, fv)
	if text == "" {
		return nil
	}
	m := SealedMask
	if !marked(text) {
		m = Mask(s.leaf.kind, text)
	}
	r.changes.setCopy(s.leaf.op, fv, m)
	return nil
}
