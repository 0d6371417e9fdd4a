package piiguardvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// Package paths the analyzer knows.
const (
	modulePath = "github.com/piiguard/piiguard"
	piiPath    = modulePath + "/pii"
)

// Diagnostic categories, one per check.
const (
	CategoryReveal   = "reveal"   // a revealed value reaches fmt, log, slog, an error or a panic
	CategoryUntagged = "untagged" // an untagged field named like personal data in a record
	CategoryRecord   = "record"   // an opened record is marshalled to JSON or logged
)

// Analyzer finds personal data on its way to logs, errors and JSON. See
// the package documentation for its checks and their limits.
var Analyzer = &analysis.Analyzer{
	Name: "piiguardvet",
	Doc:  "report personal data revealed by piiguard that reaches fmt, log, slog, errors or JSON, and untagged fields named like personal data",
	URL:  "https://pkg.go.dev/" + modulePath + "/analysis/piiguardvet",
	Run:  run,
}

// includeTests makes the analyzer read _test.go files too.
var includeTests bool

func init() {
	Analyzer.Flags.BoolVar(&includeTests, "tests", false, "also check _test.go files (tests and examples print made-up personal data by design)")
}

// ignoreDirective, in a comment on the line of a finding or the line
// above, silences it: "//piiguardvet:ignore the reason".
const ignoreDirective = "piiguardvet:ignore"

func run(pass *analysis.Pass) (any, error) {
	for _, f := range pass.Files {
		name := pass.Fset.File(f.Pos()).Name()
		if strings.HasSuffix(name, "_test.go") && !includeTests {
			continue
		}
		c := &checker{pass: pass, ignored: ignoredLines(pass.Fset, f)}
		c.checkStructs(f)
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					c.checkFunc(d.Body)
				}
			case *ast.GenDecl:
				// Functions assigned to package variables.
				ast.Inspect(d, func(n ast.Node) bool {
					if lit, ok := n.(*ast.FuncLit); ok {
						c.checkFunc(lit.Body)
						return false
					}
					return true
				})
			}
		}
	}
	return nil, nil
}

// ignoredLines returns the lines of f that hold the ignore directive.
func ignoredLines(fset *token.FileSet, f *ast.File) map[int]bool {
	lines := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, ignoreDirective) {
				lines[fset.Position(c.Slash).Line] = true
			}
		}
	}
	return lines
}

type checker struct {
	pass    *analysis.Pass
	ignored map[int]bool
	// Per function: the records passed to Open, and the variables that
	// hold a revealed value (with what revealed it).
	opened  map[types.Object]bool
	tainted map[types.Object]string
}

func (c *checker) report(pos token.Pos, category, format string, args ...any) {
	line := c.pass.Fset.Position(pos).Line
	if c.ignored[line] || c.ignored[line-1] {
		return
	}
	c.pass.Report(analysis.Diagnostic{Pos: pos, Category: category, Message: fmt.Sprintf(format, args...)})
}

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

// propagates reports whether a function returns text built from its
// arguments: fmt.Sprint*, strings.*, slog's Attr constructors.
func propagates(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	switch fn.Pkg().Path() {
	case "fmt":
		return strings.HasPrefix(fn.Name(), "Sprint") || fn.Name() == "Append" || fn.Name() == "Appendf" || fn.Name() == "Appendln"
	case "strings", "bytes":
		return isFuncNotMethod(fn)
	case "log/slog":
		return slices.Contains([]string{"String", "Any", "AnyValue", "StringValue", "Group", "GroupValue"}, fn.Name())
	}
	return false
}

func isFuncNotMethod(fn *types.Func) bool {
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() == nil
}

// sink returns the name of the sink call is (fmt, log, slog, an error
// constructor, panic) and the arguments it writes; "" if it is none.
func (c *checker) sink(call *ast.CallExpr, fn *types.Func) (string, []ast.Expr) {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := c.pass.TypesInfo.Uses[id].(*types.Builtin); ok && b.Name() == "panic" {
			return "panic", call.Args
		}
	}
	if fn == nil || fn.Pkg() == nil {
		return "", nil
	}
	sig, _ := fn.Type().(*types.Signature)
	recv := ""
	if sig != nil && sig.Recv() != nil {
		recv = typeName(sig.Recv().Type())
	}
	path, name := fn.Pkg().Path(), fn.Name()
	switch {
	case path == "fmt" && recv == "":
		switch name {
		case "Print", "Printf", "Println", "Errorf":
			return "fmt." + name, call.Args
		case "Fprint", "Fprintf", "Fprintln":
			// Only to the process's own output: a writer may be the
			// customer's own response.
			if len(call.Args) > 0 && c.isStdStream(call.Args[0]) {
				return "fmt." + name + " to " + types.ExprString(call.Args[0]), call.Args[1:]
			}
		}
	case path == "errors" && name == "New":
		return "errors.New", call.Args
	case path == "log" && (recv == "" || recv == "log.Logger"):
		if strings.HasPrefix(name, "Print") || strings.HasPrefix(name, "Fatal") || strings.HasPrefix(name, "Panic") || name == "Output" {
			return qualified(path, recv, name), call.Args
		}
	case path == "log/slog" && (recv == "" || recv == "slog.Logger"):
		switch name {
		case "Debug", "Info", "Warn", "Error", "Log", "LogAttrs", "With",
			"DebugContext", "InfoContext", "WarnContext", "ErrorContext":
			return qualified("slog", recv, name), call.Args
		}
	}
	return "", nil
}

func qualified(pkg, recv, name string) string {
	if recv != "" {
		return "(*" + recv + ")." + name
	}
	return pkg + "." + name
}

// isStdStream reports whether e is os.Stdout or os.Stderr.
func (c *checker) isStdStream(e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	v, ok := c.pass.TypesInfo.Uses[sel.Sel].(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr")
}

// jsonMarshaller returns the name of an encoding/json function that
// marshals its arguments, or "".
func jsonMarshaller(fn *types.Func) string {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "encoding/json" {
		return ""
	}
	sig, _ := fn.Type().(*types.Signature)
	switch {
	case sig != nil && sig.Recv() == nil && (fn.Name() == "Marshal" || fn.Name() == "MarshalIndent"):
		return "json." + fn.Name()
	case sig != nil && sig.Recv() != nil && fn.Name() == "Encode" && typeName(sig.Recv().Type()) == "json.Encoder":
		return "(*json.Encoder).Encode"
	}
	return ""
}

// isPIIMethod reports whether fn is a method of a type of package pii with
// one of names.
func isPIIMethod(fn *types.Func, names ...string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != piiPath || !slices.Contains(names, fn.Name()) {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() != nil
}

// isPIIFunc reports whether fn is a function of package pii with one of
// names.
func isPIIFunc(fn *types.Func, names ...string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != piiPath || !slices.Contains(names, fn.Name()) {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() == nil
}

func inModule(path string) bool {
	return path == modulePath || strings.HasPrefix(path, modulePath+"/")
}

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
