package pii

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unsafe"
)

// The walk: every call (Seal, Open, Redact and their batch forms) checks
// what it was given (recordsOf), then walks each record through the
// compiled program of its type (steps.go), handing each protected field
// to a visitor — the sealer, the opener or the redactor — which computes
// the field's new content and queues it (changes.go). The walk keeps what
// all three need: where it is (the path of the nest being walked), the
// binding of the record (binding.go), and the references it has seen.

// visitor is what a walk does at each protected field: sv is the struct
// that the step's program walks.
type visitor interface {
	field(s *step, sv reflect.Value) error
}

// walker is the state of the walk of one call.
type walker struct {
	bind    binding
	prefix  []byte // the path of the nest being walked; empty at the record's top level
	visited map[visitKey]struct{}
	changes changes
}

type visitKey struct {
	addr unsafe.Pointer
	st   *structPlan
}

// maxVisited bounds the reference set a pooled walker keeps between calls.
const maxVisited = 1024

// records is what a call was given: one record, or a slice or array of
// them, of one plan.
type records struct {
	op    string
	v     reflect.Value // the record, or the slice or array
	rp    *rootPlan
	batch bool
	ptrs  bool // the elements are pointers
}

// gather checks what a call was given and returns its records. A plan with
// nothing to protect returns rp nil: the call has nothing to do.
func gather(op string, v any, batch bool) (records, error) {
	if batch {
		op += "All"
	}
	rs, t, err := recordsOf(op, v, batch)
	if err != nil {
		return rs, err
	}
	rs.rp = planFor(t)
	if rs.rp.err != nil {
		return rs, rs.rp.err
	}
	if !rs.rp.st.static && !rs.rp.st.dynamic {
		rs.rp = nil
	}
	return rs, nil
}

// recordsOf checks what the caller passed and returns the record (or the
// slice of records) and the record type.
func recordsOf(op string, v any, batch bool) (records, reflect.Type, error) {
	rv := reflect.ValueOf(v)
	rs := records{op: op, batch: batch}
	if !batch {
		if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
			return rs, nil, fmt.Errorf("%w: %s needs a non-nil pointer to a struct, got %s", ErrInvalidRecord, op, typeName(v))
		}
		rs.v = rv.Elem()
		return rs, rs.v.Type(), nil
	}
	if rv.IsValid() && rv.Kind() == reflect.Pointer && !rv.IsNil() && (rv.Elem().Kind() == reflect.Slice || rv.Elem().Kind() == reflect.Array) {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Kind() != reflect.Slice && !(rv.Kind() == reflect.Array && rv.CanAddr()) {
		return rs, nil, fmt.Errorf("%w: %s needs a slice of structs or of pointers to structs, got %s", ErrInvalidRecord, op, typeName(v))
	}
	et := rv.Type().Elem()
	rs.ptrs = et.Kind() == reflect.Pointer
	if rs.ptrs {
		et = et.Elem()
	}
	if et.Kind() != reflect.Struct {
		return rs, nil, fmt.Errorf("%w: %s needs a slice of structs or of pointers to structs, got %s", ErrInvalidRecord, op, typeName(v))
	}
	rs.v = rv
	return rs, et, nil
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

// count returns the number of records.
func (rs *records) count() int {
	if !rs.batch {
		return 1
	}
	return rs.v.Len()
}

// at returns record i.
func (rs *records) at(i int) (reflect.Value, error) {
	if !rs.batch {
		return rs.v, nil
	}
	r := rs.v.Index(i)
	if rs.ptrs {
		if r.IsNil() {
			return r, fmt.Errorf("%w: %s: element %d is a nil pointer", ErrInvalidRecord, rs.op, i)
		}
		r = r.Elem()
	}
	return r, nil
}

// each calls f with each record, and names the record in f's error for
// batches.
func (rs *records) each(f func(r reflect.Value) error) error {
	for i, n := 0, rs.count(); i < n; i++ {
		r, err := rs.at(i)
		if err != nil {
			return err
		}
		if err := f(r); err != nil {
			return rs.errAt(i, err)
		}
	}
	return nil
}

// errAt names record i in err, for batches.
func (rs *records) errAt(i int, err error) error {
	if !rs.batch {
		return err
	}
	return &joined{fmt.Sprintf("pii: %s: record %d: %s", rs.op, i, strings.TrimPrefix(err.Error(), "pii: ")), []error{err}}
}

// tracks reports whether a walk of rs must track references: the records
// reach pointers, slices or maps, or are given as pointers.
func (rs *records) tracks() bool { return rs.rp.indirect || rs.ptrs }

// begin prepares w for a call over rs.
func (w *walker) begin(rs *records) {
	w.bind.rp, w.bind.rec = rs.rp, rs.rp.st.name
	if rs.tracks() && w.visited == nil {
		w.visited = make(map[visitKey]struct{})
	}
}

// end drops what w holds of a call, keeping its buffers for the next one.
func (w *walker) end() {
	w.bind.reset()
	w.prefix = w.prefix[:0]
	if len(w.visited) > maxVisited {
		w.visited = nil
	} else if w.visited != nil {
		clear(w.visited)
	}
	w.changes.reset()
}

// record walks one record with v.
func (w *walker) record(v visitor, r reflect.Value) error {
	w.bind.bindTo(r)
	w.prefix = w.prefix[:0]
	return w.walk(v, w.bind.rp.prog, r)
}

// walk walks struct sv through its program.
func (w *walker) walk(v visitor, p *program, sv reflect.Value) error {
	if w.visited != nil {
		if err := w.enter(p, sv); err != nil {
			return err
		}
	}
	for i := range p.steps {
		s := &p.steps[i]
		var err error
		if s.kind == stepField {
			err = v.field(s, sv)
		} else {
			mark := len(w.prefix)
			w.prefix = appendPath(w.prefix, s.path)
			err = w.nest(v, s.nest, fieldAt(sv, s.at))
			w.prefix = w.prefix[:mark]
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// enter notes that the walk reached struct sv and the structs inlined into
// its program, and fails if it reached one before (a cycle, or a reference
// shared by two places).
func (w *walker) enter(p *program, sv reflect.Value) error {
	if !sv.CanAddr() {
		return nil
	}
	if err := w.visit(p.st, sv); err != nil {
		return err
	}
	for _, in := range p.inner {
		if err := w.visit(in.st, fieldAt(sv, in.at)); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) visit(st *structPlan, v reflect.Value) error {
	if st.typ.Size() == 0 {
		return nil
	}
	k := visitKey{unsafe.Pointer(v.UnsafeAddr()), st}
	if _, seen := w.visited[k]; seen {
		return fieldErr(w.bind.rec, string(w.prefix), fmt.Errorf("%w: this %s was reached before", ErrCycle, st.typ))
	}
	w.visited[k] = struct{}{}
	return nil
}

// nest walks the structs that v, reached by a nest step, leads to.
func (w *walker) nest(vis visitor, n *nest, v reflect.Value) error {
	switch n.kind {
	case nodeStruct:
		return w.walk(vis, n.prog, v)
	case nodePtr:
		if v.IsNil() {
			return nil
		}
		return w.nest(vis, n.elem, v.Elem())
	case nodeSlice, nodeArray:
		if v.Len() == 0 {
			return nil
		}
		mark := len(w.prefix)
		w.prefix = append(w.prefix, "[]"...)
		defer func() { w.prefix = w.prefix[:mark] }()
		if n.kind == nodeArray && !v.CanAddr() {
			// An array inside a map value copy is addressable; one that
			// is not cannot be set.
			return fieldErr(w.bind.rec, string(w.prefix), fmt.Errorf("%w: an array that cannot be set", ErrUnsupportedType))
		}
		for i := 0; i < v.Len(); i++ {
			if err := w.nest(vis, n.elem, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case nodeMap:
		if v.Len() == 0 {
			return nil
		}
		if w.visited != nil {
			k := visitKey{v.UnsafePointer(), nil}
			if _, seen := w.visited[k]; seen {
				return fieldErr(w.bind.rec, string(w.prefix), fmt.Errorf("%w: this map was reached before", ErrCycle))
			}
			w.visited[k] = struct{}{}
		}
		mark := len(w.prefix)
		w.prefix = append(w.prefix, "[]"...)
		defer func() { w.prefix = w.prefix[:mark] }()
		it := v.MapRange()
		for it.Next() {
			e := it.Value()
			if !n.copyElem {
				if err := w.nest(vis, n.elem, e); err != nil {
					return err
				}
				continue
			}
			// Map values cannot be set in place: work on a copy and store
			// it back after the copy's own changes.
			cp := reflect.New(e.Type()).Elem()
			cp.Set(e)
			before := w.changes.len()
			if err := w.nest(vis, n.elem, cp); err != nil {
				return err
			}
			if w.changes.len() > before {
				w.changes.storeBack(v, it.Key(), cp)
			}
		}
		return nil
	case nodeIface:
		if v.IsNil() {
			return nil
		}
		if dt := v.Elem().Type(); ifaceReaches(dt) {
			return fieldErr(w.bind.rec, string(w.prefix), fmt.Errorf("%w: an interface value holds a %s, which has protected fields; Seal and Open do not follow interfaces", ErrUnsupportedType, dt))
		}
	}
	return nil
}

var ifaceCache sync.Map // reflect.Type → bool

// ifaceReaches reports whether a value of type t, found behind an
// interface, reaches tagged fields (or has a tag error).
func ifaceReaches(t reflect.Type) bool {
	if r, ok := ifaceCache.Load(t); ok {
		return r.(bool)
	}
	pl := &planner{root: t.String(), structs: map[reflect.Type]*structPlan{}}
	n, err := pl.node(t, "")
	reaches := err != nil
	if err == nil && n != nil {
		pl.settle()
		reaches, _ = nodeWork(n)
		for _, h := range pl.hidden {
			if s, _ := nodeWork(h.node); s {
				reaches = true
			}
		}
	}
	ifaceCache.Store(t, reaches)
	return reaches
}

// path returns the path of the field of step s from the record: s.path at
// the record's top level.
func (w *walker) path(s *step) string {
	if len(w.prefix) == 0 {
		return s.path
	}
	return string(w.prefix) + "." + s.path
}

// errAt is err about the field of step s.
func (w *walker) errAt(s *step, err error) error {
	return fieldErr(w.bind.rec, w.path(s), err)
}
