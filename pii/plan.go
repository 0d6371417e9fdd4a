package pii

import (
	"encoding"
	"fmt"
	"reflect"
)

// The planner reads the struct tags of a record type, once, into a tree of
// struct plans: for each struct type its protected fields (leaves) and the
// untagged fields that lead to more (children), with its ID, owner and
// tenant fields. Every mistake in the tags is an error here, before any
// value is touched. steps.go compiles the tree and caches it per type.

type leafOp uint8

const (
	leafString    leafOp = iota + 1 // a type whose underlying kind is string
	leafBytes                       // []byte, or a named type of it
	leafStringPtr                   // a pointer to a string-kind type
	leafValue                       // Value[T] (implements valueField through a pointer)
)

// leaf is a protected field.
type leaf struct {
	index  int    // the field's index in its struct
	seg    string // its path segment: the bind= name, or the Go name
	op     leafOp
	typ    reflect.Type
	kind   Kind
	class  Class
	token  string // tokenizer name, or "" to encrypt
	search int    // the index of the blind-index sibling, or -1
	slot   int    // a number unique among the leaves of the root plan
}

type nodeKind uint8

const (
	nodeStruct nodeKind = iota + 1
	nodePtr
	nodeSlice
	nodeArray
	nodeMap
	nodeIface
)

// node is how to reach structs from a field of type typ.
type node struct {
	kind nodeKind
	typ  reflect.Type
	elem *node       // ptr, slice, array, map
	st   *structPlan // struct
}

// child is an untagged field that reaches protected fields.
type child struct {
	index int
	seg   string
	node  *node
}

// structPlan is the plan of one struct type.
type structPlan struct {
	typ    reflect.Type
	name   string // record name: the id field's record=, else the type's name
	id     int    // the index of the id field declared in this struct, or -1
	idPath []int  // the index path of the id field, declared or promoted from an embedded struct; nil if none
	idName string // the id field's path, for errors: "ID", "Entity.ID"
	idOp   idOp
	// owner and tenant are the id field's owner= and tenant= siblings,
	// declared or promoted with it.
	owner, tenant keyField
	leaves        []leaf
	children      []child

	static  bool // reaches leaves through static types
	dynamic bool // reaches interface values, checked at run time
}

// idOp says how to read the id field.
type idOp uint8

const (
	idString idOp = iota + 1
	idInt
	idUint
	idText // encoding.TextMarshaler
)

// keyField is a field read as an identifier: the id field's owner= and
// tenant= siblings.
type keyField struct {
	path []int  // the index path from the struct; nil if none
	name string // the field's path, for errors
	op   idOp
}

var (
	valueFieldType    = reflect.TypeFor[valueField]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	stringType        = reflect.TypeFor[String]()
)

type planner struct {
	root    string
	structs map[reflect.Type]*structPlan
	all     []*structPlan
	hidden  []hidden
}

// hidden is an unexported field that is not tagged: an error if it reaches
// protected fields, ignored otherwise.
type hidden struct {
	path string
	node *node
}

// settle computes static and dynamic for every plan: a fixpoint, since
// recursive types reach themselves.
func (pl *planner) settle() {
	for changed := true; changed; {
		changed = false
		for _, st := range pl.all {
			s, d := len(st.leaves) > 0, false
			for _, c := range st.children {
				cs, cd := nodeWork(c.node)
				s, d = s || cs, d || cd
			}
			if s != st.static || d != st.dynamic {
				st.static, st.dynamic, changed = s, d, true
			}
		}
	}
	// Drop children that reach nothing.
	for _, st := range pl.all {
		kept := st.children[:0]
		for _, c := range st.children {
			if s, d := nodeWork(c.node); s || d {
				kept = append(kept, c)
			}
		}
		st.children = kept
	}
}

// reachesIndirect reports whether a pointer, slice or map is reachable
// through children that do work.
func reachesIndirect(st *structPlan, seen map[*structPlan]bool) bool {
	if seen[st] {
		return false
	}
	seen[st] = true
	for _, c := range st.children {
		for n := c.node; n != nil; n = n.elem {
			switch n.kind {
			case nodePtr, nodeSlice, nodeMap:
				return true
			case nodeStruct:
				if reachesIndirect(n.st, seen) {
					return true
				}
			}
		}
	}
	return false
}

func nodeWork(n *node) (static, dynamic bool) {
	for n != nil {
		switch n.kind {
		case nodeStruct:
			return n.st.static, n.st.dynamic
		case nodeIface:
			return false, true
		}
		n = n.elem
	}
	return false, false
}

// structPlan plans struct type t found at path (for errors).
func (pl *planner) structPlan(t reflect.Type, path string) (*structPlan, error) {
	if st, ok := pl.structs[t]; ok {
		return st, nil
	}
	st := &structPlan{typ: t, id: -1}
	pl.structs[t] = st
	pl.all = append(pl.all, st)
	errAt := func(f reflect.StructField, err error) error {
		return fieldErr(pl.root, join(path, f.Name), err)
	}
	byName := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		byName[t.Field(i).Name] = i
	}
	searchUsers := map[string]string{} // sibling name → field using it
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, tagged := f.Tag.Lookup(tagKey)
		if tag == "-" {
			continue
		}
		// A field is settable if exported, or an unexported embedded struct
		// (not pointer), whose exported fields reflect can still set.
		settable := f.IsExported() || (f.Anonymous && f.Type.Kind() == reflect.Struct)
		if !tagged {
			n, err := pl.node(f.Type, join(path, f.Name))
			if err != nil {
				return nil, err
			}
			if n == nil {
				continue
			}
			if !settable {
				// Whether it reaches leaves is known only once recursive
				// types settle; keep it to check then.
				pl.hidden = append(pl.hidden, hidden{path: join(path, f.Name), node: n})
				continue
			}
			st.children = append(st.children, child{index: i, seg: f.Name, node: n})
			continue
		}
		spec, err := parseTag(tag)
		if err != nil {
			return nil, errAt(f, fmt.Errorf("%w: %w", ErrInvalidTag, err))
		}
		if !f.IsExported() {
			return nil, errAt(f, fmt.Errorf("%w: the field is tagged %q but unexported", ErrUnexportedField, tag))
		}
		if spec.id {
			if st.id >= 0 {
				return nil, errAt(f, fmt.Errorf("%w: a second id field (the first is %s)", ErrInvalidTag, t.Field(st.id).Name))
			}
			op, ok := idOpOf(f.Type)
			if !ok {
				return nil, errAt(f, fmt.Errorf("%w: an id field must be a string, an integer or an encoding.TextMarshaler, not %s", ErrUnsupportedType, f.Type))
			}
			st.id, st.idOp, st.name = i, op, spec.record
			st.idPath, st.idName = []int{i}, f.Name
			for _, kf := range []struct {
				opt, name string
				dst       *keyField
			}{{"owner", spec.owner, &st.owner}, {"tenant", spec.tenant, &st.tenant}} {
				if kf.name == "" {
					continue
				}
				k, err := keyFieldOf(t, byName, i, kf.opt, kf.name)
				if err != nil {
					return nil, errAt(f, err)
				}
				*kf.dst = k
			}
			continue
		}
		op, err := leafOpOf(f.Type)
		if err != nil {
			return nil, errAt(f, err)
		}
		if spec.token != "" && (op == leafValue || f.Type == stringType) {
			return nil, errAt(f, fmt.Errorf("%w: token= needs a string, []byte or *string field (a pii.Value or pii.String holds ciphertext, not tokens)", ErrUnsupportedType))
		}
		if spec.search != "" && op == leafValue {
			return nil, errAt(f, fmt.Errorf("%w: search= needs a string, []byte or *string field, not a pii.Value", ErrUnsupportedType))
		}
		lf := leaf{index: i, seg: f.Name, op: op, typ: f.Type, kind: spec.kind, class: spec.class, token: spec.token, search: -1}
		if spec.bind != "" {
			lf.seg = spec.bind
		}
		if spec.search != "" {
			j, ok := byName[spec.search]
			if !ok {
				return nil, errAt(f, fmt.Errorf("%w: search=%s names no field of %s", ErrInvalidTag, spec.search, t))
			}
			sf := t.Field(j)
			switch {
			case j == i:
				return nil, errAt(f, fmt.Errorf("%w: search= names the field itself", ErrInvalidTag))
			case !sf.IsExported():
				return nil, errAt(f, fmt.Errorf("%w: search=%s names an unexported field", ErrInvalidTag, spec.search))
			case sf.Tag.Get(tagKey) != "":
				return nil, errAt(f, fmt.Errorf("%w: search=%s names a tagged field; the index field must be untagged", ErrInvalidTag, spec.search))
			case sf.Type.Kind() != reflect.String || sf.Type == stringType:
				return nil, errAt(f, fmt.Errorf("%w: search=%s has type %s; the index field must be a plain string", ErrInvalidTag, spec.search, sf.Type))
			case searchUsers[spec.search] != "":
				return nil, errAt(f, fmt.Errorf("%w: search=%s is already the index of %s", ErrInvalidTag, spec.search, searchUsers[spec.search]))
			}
			searchUsers[spec.search] = f.Name
			lf.search = j
		}
		st.leaves = append(st.leaves, lf)
	}
	if st.id < 0 {
		if err := pl.promoteID(st, path); err != nil {
			return nil, err
		}
	}
	// Bind names must be unique within the struct.
	segs := map[string]bool{}
	for _, lf := range st.leaves {
		if segs[lf.seg] {
			return nil, fieldErr(pl.root, join(path, lf.seg), fmt.Errorf("%w: two fields bound as %q", ErrInvalidTag, lf.seg))
		}
		segs[lf.seg] = true
	}
	for _, c := range st.children {
		if segs[c.seg] {
			return nil, fieldErr(pl.root, join(path, c.seg), fmt.Errorf("%w: a bind= name collides with field %s", ErrInvalidTag, c.seg))
		}
	}
	return st, nil
}

// promoteID gives st the id field of an embedded (non-pointer) struct, as
// encoding/json promotes fields. Two candidates are an error; a promoted id
// may not carry record=, which would give every type embedding it the same
// record name.
func (pl *planner) promoteID(st *structPlan, path string) error {
	t := st.typ
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.Anonymous || f.Type.Kind() != reflect.Struct || f.Tag.Get(tagKey) == "-" {
			continue
		}
		sp := pl.structs[f.Type]
		if sp == nil || sp.idPath == nil {
			continue
		}
		if st.idPath != nil {
			return fieldErr(pl.root, join(path, f.Name), fmt.Errorf("%w: two embedded structs (%s and %s) have an id field; declare one in %s", ErrInvalidTag, st.idName, f.Name+"."+sp.idName, t))
		}
		if sp.name != "" {
			return fieldErr(pl.root, join(path, f.Name+"."+sp.idName), fmt.Errorf("%w: record= on an id field promoted from an embedded struct would name every type that embeds it; declare the id in %s", ErrInvalidTag, t))
		}
		st.idPath = append([]int{i}, sp.idPath...)
		st.idName = f.Name + "." + sp.idName
		st.idOp = sp.idOp
		st.owner, st.tenant = sp.owner.promoted(i, f.Name), sp.tenant.promoted(i, f.Name)
	}
	return nil
}

// node plans how to reach structs from a value of type t; nil if t cannot
// reach any.
func (pl *planner) node(t reflect.Type, path string) (*node, error) {
	var n *node
	switch t.Kind() {
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(valueFieldType) {
			// An untagged Value[T] holds a protected value nobody asked
			// to protect: refuse rather than guess its kind.
			return nil, fieldErr(pl.root, path, fmt.Errorf("%w: a pii.Value field must be tagged with its kind", ErrInvalidTag))
		}
		st, err := pl.structPlan(t, path)
		if err != nil {
			return nil, err
		}
		n = &node{kind: nodeStruct, typ: t, st: st}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		suffix := "[]"
		k := map[reflect.Kind]nodeKind{reflect.Pointer: nodePtr, reflect.Slice: nodeSlice, reflect.Array: nodeArray, reflect.Map: nodeMap}[t.Kind()]
		if k == nodePtr {
			suffix = ""
		}
		elem, err := pl.node(t.Elem(), path+suffix)
		if err != nil || elem == nil {
			return nil, err
		}
		n = &node{kind: k, typ: t, elem: elem}
	case reflect.Interface:
		n = &node{kind: nodeIface, typ: t}
	default:
		return nil, nil
	}
	return n, nil
}

func leafOpOf(t reflect.Type) (leafOp, error) {
	switch {
	case reflect.PointerTo(t).Implements(valueFieldType):
		if err := reflect.New(t).Interface().(valueField).piiCodecErr(); err != nil {
			return 0, err
		}
		return leafValue, nil
	case t.Kind() == reflect.String:
		return leafString, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return leafBytes, nil
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
		return leafStringPtr, nil
	}
	hint := ""
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Bool, reflect.Struct:
		hint = fmt.Sprintf("; use pii.Value[%s]", t)
	}
	return 0, fmt.Errorf("%w: %s cannot hold a protected value%s", ErrUnsupportedType, t, hint)
}

func idOpOf(t reflect.Type) (idOp, bool) {
	switch {
	case t == stringType || reflect.PointerTo(t).Implements(valueFieldType):
		return 0, false // redacting types would bind every record to "[redacted]"
	case t.Kind() == reflect.String:
		return idString, true
	case t.Implements(textMarshalerType):
		return idText, true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return idInt, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return idUint, true
	}
	return 0, false
}

// keyFieldOf resolves the owner= or tenant= option (opt) of the id field
// at index id of struct t: name must be an exported, untagged sibling that
// holds an identifier (a string, an integer or an encoding.TextMarshaler).
func keyFieldOf(t reflect.Type, byName map[string]int, id int, opt, name string) (keyField, error) {
	j, ok := byName[name]
	if !ok {
		return keyField{}, fmt.Errorf("%w: %s=%s names no field of %s", ErrInvalidTag, opt, name, t)
	}
	sf := t.Field(j)
	switch {
	case j == id:
		return keyField{}, fmt.Errorf("%w: %s= names the id field itself", ErrInvalidTag, opt)
	case !sf.IsExported():
		return keyField{}, fmt.Errorf("%w: %s=%s names an unexported field", ErrInvalidTag, opt, name)
	case sf.Tag.Get(tagKey) != "":
		return keyField{}, fmt.Errorf("%w: %s=%s names a tagged field; it must be untagged, since access is decided before anything is opened", ErrInvalidTag, opt, name)
	}
	op, ok := idOpOf(sf.Type)
	if !ok {
		return keyField{}, fmt.Errorf("%w: %s=%s has type %s; want a string, an integer or an encoding.TextMarshaler", ErrInvalidTag, opt, name, sf.Type)
	}
	return keyField{path: []int{j}, name: name, op: op}, nil
}

// promoted returns k as seen from a struct that embeds k's struct as field
// index (named name).
func (k keyField) promoted(index int, name string) keyField {
	if k.path == nil {
		return k
	}
	return keyField{path: append([]int{index}, k.path...), name: name + "." + k.name, op: k.op}
}

func join(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}
