package piiguardvet

import (
	"go/ast"
	"reflect"
	"strings"
)

// The untagged check: struct fields named like personal data.

// checkStructs reports the untagged exported string fields named like
// personal data in the struct types of f that carry pii tags.
func (c *checker) checkStructs(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok || st.Fields == nil {
			return true
		}
		tagged := false
		exempt := map[string]bool{} // search=, owner= and tenant= siblings
		for _, fl := range st.Fields.List {
			v, ok := piiTag(fl.Tag)
			if !ok {
				continue
			}
			tagged = true
			for opt := range strings.SplitSeq(v, ",") {
				if k, field, ok := strings.Cut(opt, "="); ok && (k == "search" || k == "owner" || k == "tenant") {
					exempt[field] = true
				}
			}
		}
		if !tagged {
			return true
		}
		for _, fl := range st.Fields.List {
			if _, ok := piiTag(fl.Tag); ok {
				continue
			}
			for _, id := range fl.Names {
				if !id.IsExported() || exempt[id.Name] {
					continue
				}
				obj := c.pass.TypesInfo.Defs[id]
				if obj == nil || !plainText(obj.Type()) {
					continue
				}
				if kind, ok := piiKindOfName(id.Name); ok {
					c.report(id.Pos(), CategoryUntagged,
						"%s.%s is named like personal data but has no pii tag: tag it `pii:\"%s\"`, or `pii:\"-\"` if it holds none",
						ts.Name.Name, id.Name, kind)
				}
			}
		}
		return true
	})
}

// piiTag returns the value of the pii key of a struct field's tag.
func piiTag(lit *ast.BasicLit) (string, bool) {
	if lit == nil {
		return "", false
	}
	s := lit.Value
	if len(s) >= 2 {
		s = s[1 : len(s)-1]
	}
	return reflect.StructTag(s).Lookup("pii")
}
