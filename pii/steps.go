package pii

import "reflect"

// A plan (plan.go) is a tree: structs, their tagged leaves and the untagged
// children that lead to more. compile turns it, once per record type, into
// straight steps: for each struct type a program, the list of what a walk
// does there, in walk order, with every path and index already worked out.
// Structs nested by value are inlined into the program of the struct that
// holds them, so a flat record — or one with nested address structs — is
// walked as one list of fields. Only pointers, slices, arrays, maps and
// interfaces leave a program: a nest step walks the element's own program.

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
