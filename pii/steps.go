package pii

import (
	"fmt"
	"reflect"
	"sync"
)

// The plan of a record type: the planner (plan.go) reads its tags into a
// tree — structs, their tagged leaves and the untagged children that lead
// to more — and compile turns the tree, once per type, into straight steps:
// for each struct type a program, the list of what a walk does there, in
// walk order, with every path and index already worked out. Structs nested
// by value are inlined into the program of the struct that holds them, so
// a flat record — or one with nested address structs — is walked as one
// list of fields. Only pointers, slices, arrays, maps and interfaces leave
// a program: a nest step walks the element's own program.
//
// Plans are cached in plans, like encoding/json's field cache: the cache
// is a memo of a pure function of the type, not configuration.
var plans sync.Map // reflect.Type (a struct type) → *rootPlan

// rootPlan is the cached plan of a record type.
type rootPlan struct {
	st    *structPlan
	err   error // the type cannot be protected at all
	idErr error // the type has protected fields but no id field
	// pointers: the record reaches a pointer, slice or map, so shared and
	// cyclic references must be tracked.
	indirect bool
	slots    int      // the number of leaves, numbered by leaf.slot
	prog     *program // the compiled walk

	searchOnce sync.Once
	search     map[string]*searchField
}

// searchField is a searchable field found by its static path.
type searchField struct {
	path   string
	leaf   *leaf
	domain []byte // its blind index domain: record 0x00 path
}

// planFor returns the plan of struct type t, building it on first use.
func planFor(t reflect.Type) *rootPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*rootPlan)
	}
	p := buildPlan(t)
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*rootPlan)
}

// buildPlan plans record type t (plan.go) and compiles its program.
func buildPlan(t reflect.Type) *rootPlan {
	pl := &planner{root: t.Name(), structs: map[reflect.Type]*structPlan{}}
	if pl.root == "" {
		pl.root = "struct"
	}
	rp := &rootPlan{}
	st, err := pl.structPlan(t, "")
	if err != nil {
		rp.err = err
		return rp
	}
	pl.settle()
	for _, h := range pl.hidden {
		if static, _ := nodeWork(h.node); static {
			rp.err = fieldErr(pl.root, h.path, fmt.Errorf("%w: the field is unexported but reaches protected fields", ErrUnexportedField))
			return rp
		}
	}
	rp.st = st
	if st.name == "" {
		st.name = pl.root
	}
	for _, sp := range pl.all {
		for i := range sp.leaves {
			sp.leaves[i].slot = rp.slots
			rp.slots++
		}
	}
	rp.indirect = reachesIndirect(st, map[*structPlan]bool{})
	rp.prog = compile(st, map[*structPlan]*program{})
	if st.static && st.idPath == nil {
		rp.idErr = fieldErr(st.name, "", fmt.Errorf("%w: the record type has protected fields but no `pii:\"id\"` field", ErrMissingID))
	} else if st.static && t.Name() == "" && st.name == pl.root {
		rp.idErr = fieldErr(st.name, "", fmt.Errorf("%w: an anonymous struct type must name itself with `pii:\"id,record=NAME\"`", ErrInvalidTag))
	}
	return rp
}

// program is the compiled walk of one struct type.
type program struct {
	st    *structPlan
	steps []step
	// inner are the structs inlined into the program, for the walks that
	// track shared references (see walker.enter): a pointer into one of
	// them reaches the same memory again.
	inner []innerStruct
}

type innerStruct struct {
	at []int
	st *structPlan
}

type stepKind uint8

const (
	stepField stepKind = iota + 1 // a protected field
	stepNest                      // a pointer, slice, array, map or interface that reaches more
)

// step is one thing a program does.
type step struct {
	kind stepKind
	at   []int  // the field's index path from the program's struct
	path string // its path from the program's struct: "Email", "Home.Street", "Addresses"

	// A field step: the leaf (kind, class, token, slot, how to read it),
	// and the index path of its blind-index sibling, nil if none.
	leaf     leaf
	searchAt []int

	// A nest step.
	nest *nest
}

// nest is how a nest step reaches structs: the plan's node, with the
// element struct's program in place of its plan.
type nest struct {
	kind nodeKind
	elem *nest    // nodePtr, nodeSlice, nodeArray, nodeMap
	prog *program // nodeStruct
	// copyElem: map values cannot be set in place, so a walk works on a
	// copy of each (a struct or an array) and stores it back.
	copyElem bool
}

// compile returns the program of st, compiling it and every program it
// reaches on first use; progs holds those of one root plan (recursive
// types reach their own program again).
func compile(st *structPlan, progs map[*structPlan]*program) *program {
	if p := progs[st]; p != nil {
		return p
	}
	p := &program{st: st}
	progs[st] = p
	p.addSteps(st, nil, "", progs)
	return p
}

// addSteps appends the steps of st, found at index path at and path from
// the program's struct.
func (p *program) addSteps(st *structPlan, at []int, path string, progs map[*structPlan]*program) {
	for _, lf := range st.leaves {
		s := step{kind: stepField, at: withIndex(at, lf.index), path: join(path, lf.seg), leaf: lf}
		if lf.search >= 0 {
			s.searchAt = withIndex(at, lf.search)
		}
		p.steps = append(p.steps, s)
	}
	for _, c := range st.children {
		cat, cpath := withIndex(at, c.index), join(path, c.seg)
		if c.node.kind == nodeStruct {
			p.inner = append(p.inner, innerStruct{at: cat, st: c.node.st})
			p.addSteps(c.node.st, cat, cpath, progs)
			continue
		}
		p.steps = append(p.steps, step{kind: stepNest, at: cat, path: cpath, nest: compileNest(c.node, progs)})
	}
}

func compileNest(n *node, progs map[*structPlan]*program) *nest {
	ns := &nest{kind: n.kind}
	switch n.kind {
	case nodeStruct:
		ns.prog = compile(n.st, progs)
	case nodePtr, nodeSlice, nodeArray, nodeMap:
		ns.elem = compileNest(n.elem, progs)
		ns.copyElem = n.kind == nodeMap && (n.elem.kind == nodeStruct || n.elem.kind == nodeArray)
	}
	return ns
}

// leafText returns the current content of a string, []byte or *string
// field as a string (a read-only view for []byte).
func leafText(op leafOp, fv reflect.Value) string {
	switch op {
	case leafString:
		return fv.String()
	case leafBytes:
		return bytesToString(fv.Bytes())
	case leafStringPtr:
		if fv.IsNil() {
			return ""
		}
		return fv.Elem().String()
	}
	return ""
}

// withIndex returns a new index path: at followed by i.
func withIndex(at []int, i int) []int {
	return append(append(make([]int, 0, len(at)+1), at...), i)
}

// fieldAt returns the field of struct v at index path at.
func fieldAt(v reflect.Value, at []int) reflect.Value {
	if len(at) == 1 {
		return v.Field(at[0])
	}
	return v.FieldByIndex(at)
}

// searchFields returns the searchable fields of the record by static path.
// Fields reached through a recursive type are listed at their first level.
func (rp *rootPlan) searchFields() map[string]*searchField {
	rp.searchOnce.Do(func() {
		rp.search = map[string]*searchField{}
		var walk func(st *structPlan, path string, stack map[*structPlan]bool)
		walk = func(st *structPlan, path string, stack map[*structPlan]bool) {
			if stack[st] {
				return
			}
			stack[st] = true
			defer delete(stack, st)
			for i := range st.leaves {
				if st.leaves[i].search >= 0 {
					p := join(path, st.leaves[i].seg)
					rp.search[p] = &searchField{path: p, leaf: &st.leaves[i], domain: append(append([]byte(rp.st.name), 0), p...)}
				}
			}
			for _, c := range st.children {
				p := join(path, c.seg)
				for n := c.node; n != nil; n = n.elem {
					switch n.kind {
					case nodeStruct:
						walk(n.st, p, stack)
					case nodeSlice, nodeArray, nodeMap:
						p += "[]"
					}
				}
			}
		}
		walk(rp.st, "", map[*structPlan]bool{})
	})
	return rp.search
}
