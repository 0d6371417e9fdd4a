package pii

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// adLabel starts the associated data of every field ciphertext:
//
//	ad = "piiguard/pii/v1" 0x00 record 0x00 path 0x00 id
//
// record and path hold no 0x00 (they are Go identifiers and tag names), so
// the encoding is unambiguous; id is last and may hold any byte.
const adLabel = "piiguard/pii/v1\x00"

type mode uint8

const (
	modeSeal mode = iota + 1
	modeOpen
	modeRedact
)

var modeNames = [...]string{modeSeal: "Seal", modeOpen: "Open", modeRedact: "Redact"}

// walker carries the state of one Seal, Open or Redact call. Nothing is
// written to the records until every field has been computed: commit then
// applies the pending assignments.
type walker struct {
	ctx  context.Context
	p    *Protector // nil for Redact
	mode mode
	rp   *rootPlan
	rec  string // the record name

	root    reflect.Value // the record being walked
	id      string
	idReady bool

	// Open only: the access decisions and audit events of this call.
	gate          gate
	owner, tenant string
	ownerReady    bool
	groups        [3]eventGroup // the current record's decisions, by access.Effect
	lastLists     [3]string     // the lists of the call's last event of each effect

	path    []byte // the path of the struct being walked
	scratch []byte // associated data, index domains
	key     []byte // index cache keys
	raw     []byte // the Tink ciphertext of the field being opened

	aead    tink.AEAD
	idx     *indexState
	pending []assign
	visited map[visitKey]struct{}
	events  []audit.Event
}

type visitKey struct {
	addr unsafe.Pointer
	typ  unsafe.Pointer // the *structPlan or *node
}

type assignOp uint8

const (
	setString assignOp = iota + 1
	setBytes
	setStringPtr
	setBox // reflect.Value.Set(box)
	setMapIndex
	setZero // reflect.Value.SetZero: a denied field
)

type assign struct {
	op  assignOp
	dst reflect.Value
	s   string
	b   []byte
	box reflect.Value
	key reflect.Value
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

func run(ctx context.Context, p *Protector, m mode, v any, batch bool) error {
	op := modeNames[m]
	if batch {
		op += "All"
	}
	roots, t, elemPtr, err := recordsOf(op, v, batch)
	if err != nil {
		return err
	}
	rp := planFor(t)
	if rp.err != nil {
		return rp.err
	}
	if !rp.st.static && !rp.st.dynamic {
		return nil
	}
	if m != modeRedact {
		if rp.idErr != nil {
			return rp.idErr
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pii: %s: %w", op, err)
		}
	}
	w := walkers.Get().(*walker)
	defer w.release()
	w.ctx, w.p, w.mode, w.rp, w.rec = ctx, p, m, rp, rp.st.name
	if rp.indirect || elemPtr {
		w.visited = make(map[visitKey]struct{})
	}
	if m == modeOpen {
		w.gate.init(ctx, p, rp, batch || rp.indirect)
	}
	n := 1
	if batch {
		n = roots.Len()
	}
	for i := 0; i < n; i++ {
		r := roots
		if batch {
			r = roots.Index(i)
			if elemPtr {
				if r.IsNil() {
					return fmt.Errorf("%w: %s: element %d is a nil pointer", ErrInvalidRecord, op, i)
				}
				r = r.Elem()
			}
		}
		w.root, w.idReady, w.id = r, false, ""
		w.ownerReady, w.owner, w.tenant = false, "", ""
		w.path = w.path[:0]
		if err := w.walkStruct(rp.st, r); err != nil {
			w.reportFailure(err)
			if batch {
				err = &joined{fmt.Sprintf("pii: %s: record %d: %s", op, i, strings.TrimPrefix(err.Error(), "pii: ")), []error{err}}
			}
			return err
		}
		if m == modeOpen {
			w.flushEvents()
		}
	}
	if err := w.report(); err != nil {
		return err
	}
	w.commit()
	return nil
}

// recordsOf checks what the caller passed and returns the record (or the
// slice of records), the record type and whether elements are pointers.
func recordsOf(op string, v any, batch bool) (reflect.Value, reflect.Type, bool, error) {
	rv := reflect.ValueOf(v)
	if !batch {
		if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
			return rv, nil, false, fmt.Errorf("%w: %s needs a non-nil pointer to a struct, got %s", ErrInvalidRecord, op, typeName(v))
		}
		return rv.Elem(), rv.Type().Elem(), false, nil
	}
	if rv.IsValid() && rv.Kind() == reflect.Pointer && !rv.IsNil() && (rv.Elem().Kind() == reflect.Slice || rv.Elem().Kind() == reflect.Array) {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Kind() != reflect.Slice && !(rv.Kind() == reflect.Array && rv.CanAddr()) {
		return rv, nil, false, fmt.Errorf("%w: %s needs a slice of structs or of pointers to structs, got %s", ErrInvalidRecord, op, typeName(v))
	}
	et := rv.Type().Elem()
	ptr := et.Kind() == reflect.Pointer
	if ptr {
		et = et.Elem()
	}
	if et.Kind() != reflect.Struct {
		return rv, nil, false, fmt.Errorf("%w: %s needs a slice of structs or of pointers to structs, got %s", ErrInvalidRecord, op, typeName(v))
	}
	return rv, et, ptr, nil
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

func (w *walker) release() {
	clear(w.pending)
	clear(w.events)
	for i := range w.groups {
		w.groups[i].reset()
	}
	if w.gate.checker != nil { // an Open: the gate holds the call's request
		prep, slots, memo := w.gate.buffers()
		w.gate = gate{prep: prep, slots: slots, memo: memo}
	}
	// Field by field rather than one struct assignment, which copied all
	// 1.3 KB with write barriers (~150 ns a call). TestReleaseResetsWalker
	// fails when a field is added here without being reset.
	w.ctx, w.p, w.mode, w.rp, w.rec = nil, nil, 0, nil, ""
	w.root, w.id, w.idReady = reflect.Value{}, "", false
	w.owner, w.tenant, w.ownerReady = "", "", false
	w.lastLists = [3]string{}
	w.path, w.scratch, w.key, w.raw = w.path[:0], w.scratch[:0], w.key[:0], w.raw[:0]
	w.aead, w.idx, w.visited = nil, nil, nil
	w.pending, w.events = w.pending[:0], w.events[:0]
	if cap(w.pending) > 1024 || cap(w.scratch) > 1<<20 || cap(w.raw) > 1<<20 || cap(w.gate.memo) > 1024 {
		return // let an unusually large walker go
	}
	walkers.Put(w)
}

func (w *walker) commit() {
	for _, a := range w.pending {
		switch a.op {
		case setString:
			a.dst.SetString(a.s)
		case setBytes:
			a.dst.SetBytes(a.b)
		case setStringPtr:
			nv := reflect.New(a.dst.Type().Elem())
			nv.Elem().SetString(a.s)
			a.dst.Set(nv)
		case setBox:
			a.dst.Set(a.box)
		case setMapIndex:
			a.dst.SetMapIndex(a.key, a.box)
		case setZero:
			a.dst.SetZero()
		}
	}
}

func (w *walker) walkStruct(st *structPlan, v reflect.Value) error {
	if w.visited != nil && v.CanAddr() && st.typ.Size() > 0 {
		k := visitKey{unsafe.Pointer(v.UnsafeAddr()), unsafe.Pointer(st)}
		if _, seen := w.visited[k]; seen {
			return fieldErr(w.rec, w.pathString(""), fmt.Errorf("%w: this %s was reached before", ErrCycle, st.typ))
		}
		w.visited[k] = struct{}{}
	}
	for i := range st.leaves {
		var err error
		switch w.mode {
		case modeSeal:
			err = w.sealLeaf(&st.leaves[i], v)
		case modeOpen:
			err = w.openLeaf(&st.leaves[i], v)
		default:
			w.redactLeaf(&st.leaves[i], v)
		}
		if err != nil {
			return err
		}
	}
	for _, c := range st.children {
		mark := len(w.path)
		w.pushSeg(c.seg)
		err := w.walkNode(c.node, v.Field(c.index))
		w.path = w.path[:mark]
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) walkNode(n *node, v reflect.Value) error {
	switch n.kind {
	case nodeStruct:
		return w.walkStruct(n.st, v)
	case nodePtr:
		if v.IsNil() {
			return nil
		}
		return w.walkNode(n.elem, v.Elem())
	case nodeSlice, nodeArray:
		if v.Len() == 0 {
			return nil
		}
		mark := len(w.path)
		w.path = append(w.path, "[]"...)
		defer func() { w.path = w.path[:mark] }()
		if n.kind == nodeArray && !v.CanAddr() {
			// An array inside a map value copy is addressable; one that
			// is not cannot be set.
			return fieldErr(w.rec, w.pathString(""), fmt.Errorf("%w: an array that cannot be set", ErrUnsupportedType))
		}
		for i := 0; i < v.Len(); i++ {
			if err := w.walkNode(n.elem, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case nodeMap:
		if v.Len() == 0 {
			return nil
		}
		if w.visited != nil {
			k := visitKey{v.UnsafePointer(), unsafe.Pointer(n)}
			if _, seen := w.visited[k]; seen {
				return fieldErr(w.rec, w.pathString(""), fmt.Errorf("%w: this map was reached before", ErrCycle))
			}
			w.visited[k] = struct{}{}
		}
		mark := len(w.path)
		w.path = append(w.path, "[]"...)
		defer func() { w.path = w.path[:mark] }()
		copyElem := n.elem.kind == nodeStruct || n.elem.kind == nodeArray
		it := v.MapRange()
		for it.Next() {
			e := it.Value()
			if !copyElem {
				if err := w.walkNode(n.elem, e); err != nil {
					return err
				}
				continue
			}
			// Map values cannot be set in place: work on a copy and store
			// it back on commit, after the copy's own assignments.
			cp := reflect.New(e.Type()).Elem()
			cp.Set(e)
			before := len(w.pending)
			if err := w.walkNode(n.elem, cp); err != nil {
				return err
			}
			if len(w.pending) > before {
				w.pending = append(w.pending, assign{op: setMapIndex, dst: v, key: it.Key(), box: cp})
			}
		}
		return nil
	case nodeIface:
		if v.IsNil() {
			return nil
		}
		if dt := v.Elem().Type(); ifaceReaches(dt) {
			return fieldErr(w.rec, w.pathString(""), fmt.Errorf("%w: an interface value holds a %s, which has protected fields; Seal and Open do not follow interfaces", ErrUnsupportedType, dt))
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

func (w *walker) pushSeg(seg string) {
	if len(w.path) > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, seg...)
}

func appendPath(dst, path []byte, seg string) []byte {
	dst = append(dst, path...)
	if len(path) > 0 && seg != "" {
		dst = append(dst, '.')
	}
	return append(dst, seg...)
}

// pathString returns the path of field seg of the struct being walked.
func (w *walker) pathString(seg string) string {
	if len(w.path) == 0 {
		return seg
	}
	return string(appendPath(nil, w.path, seg))
}

func (w *walker) errf(lf *leaf, err error) error {
	return fieldErr(w.rec, w.pathString(lf.seg), err)
}

// recordID returns the ID of the record being walked.
func (w *walker) recordID() (string, error) {
	if w.idReady {
		return w.id, nil
	}
	st := w.rp.st
	id, ok := identText(w.root.FieldByIndex(st.idPath), st.idOp)
	if !ok {
		return "", fieldErr(w.rec, st.idName, fmt.Errorf("%w: the ID does not marshal to text", ErrMissingID))
	}
	if id == "" {
		return "", fieldErr(w.rec, st.idName, fmt.Errorf("%w: the ID is empty; set it before sealing or opening, since every value is bound to it", ErrMissingID))
	}
	w.id, w.idReady = id, true
	return id, nil
}

// ownerAndTenant returns the owner and tenant of the record being walked,
// "" for none (no owner= or tenant= option, or an empty field).
func (w *walker) ownerAndTenant() (owner, tenant string, err error) {
	if w.ownerReady {
		return w.owner, w.tenant, nil
	}
	st := w.rp.st
	for _, k := range []struct {
		f   keyField
		dst *string
	}{{st.owner, &w.owner}, {st.tenant, &w.tenant}} {
		if k.f.path == nil {
			continue
		}
		s, ok := identText(w.root.FieldByIndex(k.f.path), k.f.op)
		if !ok {
			return "", "", fieldErr(w.rec, k.f.name, fmt.Errorf("%w: the field does not marshal to text", ErrInvalidRecord))
		}
		*k.dst = s
	}
	w.ownerReady = true
	return w.owner, w.tenant, nil
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
		b, err := f.Interface().(interface{ MarshalText() ([]byte, error) }).MarshalText()
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	return "", true
}

// ad builds the associated data of field seg in w.scratch.
func (w *walker) ad(lf *leaf) ([]byte, error) {
	id, err := w.recordID()
	if err != nil {
		return nil, err
	}
	b := append(w.scratch[:0], adLabel...)
	b = append(b, w.rec...)
	b = append(b, 0)
	b = appendPath(b, w.path, lf.seg)
	b = append(b, 0)
	b = append(b, id...)
	w.scratch = b
	return b, nil
}
