package pii

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
)

// adLabel starts the associated data of every field ciphertext:
//
//	ad = "piiguard/pii/v1" 0x00 record 0x00 path 0x00 id
//
// record and path hold no 0x00 (they are Go identifiers and tag names), so
// the encoding is unambiguous; id is last and may hold any byte.
const adLabel = "piiguard/pii/v1\x00"

// binding is what ties the values of the record being walked to it: the
// record name of its type, its ID — both bound into every ciphertext's
// associated data — and, for access decisions, its owner and tenant. The
// ID, owner and tenant are read from the record once, when first needed.
type binding struct {
	rp   *rootPlan
	rec  string // the record name
	root reflect.Value

	id, owner, tenant string
	idRead, ownerRead bool

	ad []byte // the associated data of the field being sealed or opened
}

// bindTo binds b to record root.
func (b *binding) bindTo(root reflect.Value) {
	b.root = root
	b.id, b.owner, b.tenant = "", "", ""
	b.idRead, b.ownerRead = false, false
}

// reset drops the record and the plan, keeping the buffer.
func (b *binding) reset() {
	b.rp, b.rec, b.root = nil, "", reflect.Value{}
	b.bindTo(reflect.Value{})
	b.ad = b.ad[:0]
}

// recordID returns the ID of the record: an error if it is empty or its
// TextMarshaler fails, since every value is bound to it.
func (b *binding) recordID() (string, error) {
	if b.idRead {
		return b.id, nil
	}
	st := b.rp.st
	id, ok := identText(b.root.FieldByIndex(st.idPath), st.idOp)
	if !ok {
		return "", fieldErr(b.rec, st.idName, fmt.Errorf("%w: the ID does not marshal to text", ErrMissingID))
	}
	if id == "" {
		return "", fieldErr(b.rec, st.idName, fmt.Errorf("%w: the ID is empty; set it before sealing or opening, since every value is bound to it", ErrMissingID))
	}
	b.id, b.idRead = id, true
	return id, nil
}

// ownerAndTenant returns the owner and tenant of the record, "" for none
// (no owner= or tenant= option, or an empty field).
func (b *binding) ownerAndTenant() (owner, tenant string, err error) {
	if b.ownerRead {
		return b.owner, b.tenant, nil
	}
	st := b.rp.st
	for _, k := range [...]struct {
		f   *keyField
		dst *string
	}{{&st.owner, &b.owner}, {&st.tenant, &b.tenant}} {
		if k.f.path == nil {
			continue
		}
		s, ok := identText(b.root.FieldByIndex(k.f.path), k.f.op)
		if !ok {
			return "", "", fieldErr(b.rec, k.f.name, fmt.Errorf("%w: the field does not marshal to text", ErrInvalidRecord))
		}
		*k.dst = s
	}
	b.ownerRead = true
	return b.owner, b.tenant, nil
}

// identText returns the text of an identifier field (the id, owner= or
// tenant= field): "" for a zero value, and false if a TextMarshaler fails.
func identText(f reflect.Value, op idOp) (string, bool) {
	if f.IsZero() {
		return "", true
	}
	switch op {
	case idString:
		return f.String(), true
	case idInt:
		return strconv.FormatInt(f.Int(), 10), true
	case idUint:
		return strconv.FormatUint(f.Uint(), 10), true
	case idText:
		t, err := f.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", false
		}
		return string(t), true
	}
	return "", true
}

// associatedData returns the associated data of the field at path from
// the nest at prefix, in a buffer that the next call overwrites.
func (b *binding) associatedData(prefix []byte, path string) ([]byte, error) {
	id, err := b.recordID()
	if err != nil {
		return nil, err
	}
	ad := append(b.ad[:0], adLabel...)
	ad = append(ad, b.rec...)
	ad = append(ad, 0)
	ad = appendFieldPath(ad, prefix, path)
	ad = append(ad, 0)
	b.ad = append(ad, id...)
	return b.ad, nil
}

// appendPath appends path to dst, after a "." if dst holds a path already.
func appendPath(dst []byte, path string) []byte {
	if len(dst) > 0 && path != "" {
		dst = append(dst, '.')
	}
	return append(dst, path...)
}

// appendFieldPath appends the path of a field, at path from the nest at
// prefix, to dst.
func appendFieldPath(dst, prefix []byte, path string) []byte {
	if len(prefix) > 0 {
		dst = append(append(dst, prefix...), '.')
	}
	return append(dst, path...)
}
