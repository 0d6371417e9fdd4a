package piiguardvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// The reveal and record checks: revealed values and opened records
// followed through a function body.

// checkFunc follows the revealed values and opened records of a function
// body (closures included) in source order.
func (c *checker) checkFunc(body *ast.BlockStmt) {
	c.opened = map[types.Object]bool{}
	c.tainted = map[types.Object]string{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				var rhs ast.Expr
				switch {
				case len(n.Rhs) == len(n.Lhs):
					rhs = n.Rhs[i]
				case len(n.Rhs) == 1 && i == 0:
					rhs = n.Rhs[0] // v, err := x.Reveal()
				default:
					continue
				}
				c.assign(lhs, rhs)
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				switch {
				case len(n.Values) == len(n.Names):
					c.assign(id, n.Values[i])
				case len(n.Values) == 1 && i == 0:
					c.assign(id, n.Values[0])
				}
			}
		case *ast.RangeStmt:
			// for _, r := range opened { r.Email ... }
			if n.Value != nil && c.isOpened(n.X) {
				if obj := c.objOf(n.Value); obj != nil {
					c.opened[obj] = true
				}
			}
		case *ast.CallExpr:
			c.call(n)
		}
		return true
	})
}

// assign records that lhs now holds a revealed value or an opened record.
func (c *checker) assign(lhs, rhs ast.Expr) {
	obj := c.objOf(lhs)
	if obj == nil {
		return
	}
	if src := c.taint(rhs); src != "" {
		c.tainted[obj] = src
	}
	if c.isOpened(rhs) && isRecordExpr(rhs) {
		c.opened[obj] = true
	}
}

func isRecordExpr(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident, *ast.IndexExpr, *ast.StarExpr:
		return true
	case *ast.UnaryExpr:
		return e.Op == token.AND
	}
	return false
}

func (c *checker) objOf(e ast.Expr) types.Object {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok || id.Name == "_" {
		return nil
	}
	return c.pass.TypesInfo.ObjectOf(id)
}

// call handles a call: an Open marks its records opened; a sink reports
// the revealed values and opened records passed to it.
func (c *checker) call(call *ast.CallExpr) {
	fn, _ := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if isPIIMethod(fn, "Open", "OpenAll") {
		for _, arg := range call.Args[min(1, len(call.Args)):] {
			if root := rootIdent(arg); root != nil {
				if obj := c.pass.TypesInfo.ObjectOf(root); obj != nil {
					c.opened[obj] = true
				}
			}
		}
		return
	}
	if isPIIMethod(fn, "Seal", "SealAll") || isPIIFunc(fn, "Redact") {
		// Sealed or masked again: no plaintext left.
		for _, arg := range call.Args {
			if root := rootIdent(arg); root != nil {
				delete(c.opened, c.pass.TypesInfo.ObjectOf(root))
			}
		}
		return
	}
	if marshal := jsonMarshaller(fn); marshal != "" {
		for _, arg := range call.Args {
			c.checkRecord(arg, marshal, true)
		}
		return
	}
	sink, args := c.sink(call, fn)
	if sink == "" {
		return
	}
	for _, arg := range args {
		if src := c.taint(arg); src != "" {
			advice := "pass the value unrevealed (it prints \"[redacted]\") or a mask (pii.Mask)"
			if strings.HasPrefix(src, "Open ") {
				advice = "make the field a pii.String (it prints \"[redacted]\") or pass a mask (pii.Mask)"
			}
			c.report(arg.Pos(), CategoryReveal, "personal data revealed by %s is passed to %s: %s", src, sink, advice)
			continue
		}
		c.checkRecord(arg, sink, false)
		// slog.Info("msg", slog.Any("customer", c))
		if inner, ok := ast.Unparen(arg).(*ast.CallExpr); ok {
			if fn, _ := typeutil.Callee(c.pass.TypesInfo, inner).(*types.Func); fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "log/slog" && propagates(fn) {
				for _, a := range inner.Args {
					c.checkRecord(a, sink, false)
				}
			}
		}
	}
}

// checkRecord reports arg if it is a record opened in this function whose
// tagged fields hold plaintext that sink would write.
func (c *checker) checkRecord(arg ast.Expr, sink string, forJSON bool) {
	if !isRecordExpr(arg) || !c.isOpened(arg) {
		return
	}
	t := c.pass.TypesInfo.TypeOf(arg)
	if t == nil {
		return
	}
	fields := leakyFields(t, forJSON)
	if len(fields) == 0 {
		return
	}
	what := "logged by " + sink
	if forJSON {
		what = "marshalled by " + sink
	}
	c.report(arg.Pos(), CategoryRecord,
		"record %s is %s after Open: its tagged fields %s hold plaintext; pass a copy masked with pii.Redact, or use pii.String and pii.Value fields",
		types.ExprString(arg), what, strings.Join(fields, ", "))
}

// isOpened reports whether e is, or is an element of, a record opened in
// this function.
func (c *checker) isOpened(e ast.Expr) bool {
	root := rootIdent(e)
	if root == nil {
		return false
	}
	obj := c.pass.TypesInfo.ObjectOf(root)
	return obj != nil && c.opened[obj]
}

// rootIdent returns the variable an expression such as &x, x[i], *x or
// x.A.B starts from.
func rootIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			if x.Op != token.AND {
				return nil
			}
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.SelectorExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// taint says what revealed the personal data e holds ("" if none that
// this analyzer can see): a Reveal call, a conversion of a pii.String, a
// tagged plaintext field of an opened record, a variable that holds one,
// or a string built from one.
func (c *checker) taint(e ast.Expr) string {
	info := c.pass.TypesInfo
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if obj := info.ObjectOf(e); obj != nil {
			return c.tainted[obj]
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			if s := c.taint(e.X); s != "" {
				return s
			}
			return c.taint(e.Y)
		}
	case *ast.SliceExpr:
		return c.taint(e.X)
	case *ast.StarExpr:
		return c.taint(e.X)
	case *ast.SelectorExpr:
		return c.fieldTaint(e)
	case *ast.CallExpr:
		if tv, ok := info.Types[e.Fun]; ok && tv.IsType() && len(e.Args) == 1 {
			// string(s) of a pii.String reveals it too.
			if at := info.TypeOf(e.Args[0]); at != nil && isPIIType(at) && plainText(tv.Type) {
				return "a conversion of " + typeName(at)
			}
			return c.taint(e.Args[0])
		}
		fn, _ := typeutil.Callee(info, e).(*types.Func)
		if fn == nil {
			return ""
		}
		if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil && fn.Name() == "Reveal" && fn.Pkg() != nil && inModule(fn.Pkg().Path()) {
			return typeName(sig.Recv().Type()) + ".Reveal"
		}
		if propagates(fn) {
			for _, arg := range e.Args {
				if s := c.taint(arg); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// fieldTaint reports a tagged field of plain text type read from a record
// opened in this function.
func (c *checker) fieldTaint(sel *ast.SelectorExpr) string {
	s, ok := c.pass.TypesInfo.Selections[sel]
	if !ok || s.Kind() != types.FieldVal || !c.isOpened(sel.X) {
		return ""
	}
	tag := fieldTag(s)
	v, ok := reflect.StructTag(tag).Lookup("pii")
	if !ok || !protectedTag(v) || !plainText(s.Obj().Type()) {
		return ""
	}
	return fmt.Sprintf("Open (%s, tagged `pii:%q`)", types.ExprString(sel), v)
}

// fieldTag returns the tag of the field a selection selects, following
// embedded fields.
func fieldTag(s *types.Selection) string {
	t := s.Recv()
	tag := ""
	for _, i := range s.Index() {
		st, ok := deref(t).Underlying().(*types.Struct)
		if !ok || i >= st.NumFields() {
			return ""
		}
		tag = st.Tag(i)
		t = st.Field(i).Type()
	}
	return tag
}

// protectedTag reports whether a pii tag value protects its field (not
// "-", not the record's "id").
func protectedTag(v string) bool {
	kind, _, _ := strings.Cut(v, ",")
	return kind != "" && kind != "-" && kind != "id"
}
