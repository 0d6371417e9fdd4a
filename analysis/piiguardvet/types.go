package piiguardvet

import (
	"go/types"
	"reflect"
	"strings"
)

// Which types hold plain text, and which records would show it.

// isPIIType reports whether t is a type of package pii (String, Value[T]).
func isPIIType(t types.Type) bool {
	n, ok := deref(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == piiPath
}

// plainText reports whether t holds text in the clear: a string, a []byte
// or a *string (or a named type of one), but not a type of package pii,
// which redacts itself.
func plainText(t types.Type) bool {
	if isPIIType(t) {
		return false
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
		if isPIIType(t) {
			return false
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Info()&types.IsString != 0
	case *types.Slice:
		b, ok := u.Elem().Underlying().(*types.Basic)
		return ok && b.Kind() == types.Byte
	}
	return false
}

// leakyFields returns the paths of the tagged plaintext fields a record
// of type t would show to fmt or slog (or to encoding/json if forJSON):
// none if the type formats or marshals itself.
func leakyFields(t types.Type, forJSON bool) []string {
	var out []string
	var walk func(t types.Type, prefix string, depth int)
	seen := map[types.Type]bool{}
	walk = func(t types.Type, prefix string, depth int) {
		if depth > 8 || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		if selfRedacting(t, forJSON) {
			return
		}
		switch u := t.Underlying().(type) {
		case *types.Pointer:
			walk(u.Elem(), prefix, depth+1)
		case *types.Slice:
			walk(u.Elem(), prefix+"[]", depth+1)
		case *types.Array:
			walk(u.Elem(), prefix+"[]", depth+1)
		case *types.Map:
			walk(u.Elem(), prefix+"[]", depth+1)
		case *types.Struct:
			for i := range u.NumFields() {
				f := u.Field(i)
				if !f.Exported() {
					continue
				}
				tag := reflect.StructTag(u.Tag(i))
				if forJSON && tag.Get("json") == "-" {
					continue
				}
				name := f.Name()
				if prefix != "" {
					name = prefix + "." + name
				}
				if v, ok := tag.Lookup("pii"); ok {
					if protectedTag(v) && plainText(f.Type()) {
						out = append(out, name)
					}
					continue
				}
				if strings.HasPrefix(tag.Get("pii"), "-") {
					continue
				}
				walk(f.Type(), name, depth+1)
			}
		}
	}
	walk(t, "", 0)
	return out
}

// selfRedacting reports whether t (or *t) decides how it prints
// (String, Format, LogValue) or, for JSON, how it marshals.
func selfRedacting(t types.Type, forJSON bool) bool {
	if _, ok := t.Underlying().(*types.Pointer); ok {
		return false
	}
	methods := []string{"String", "Format", "LogValue", "Error"}
	if forJSON {
		methods = []string{"MarshalJSON", "MarshalText"}
	}
	for _, m := range methods {
		for _, tt := range []types.Type{t, types.NewPointer(t)} {
			if obj, _, _ := types.LookupFieldOrMethod(tt, true, nil, m); obj != nil {
				if _, ok := obj.(*types.Func); ok {
					return true
				}
			}
		}
	}
	return false
}

func deref(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// typeName names a type as "pkg.Name", without the type arguments and
// the pointer.
func typeName(t types.Type) string {
	t = deref(t)
	if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil {
		return n.Obj().Pkg().Name() + "." + n.Obj().Name()
	}
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}
