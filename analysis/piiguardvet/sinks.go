package piiguardvet

import (
	"go/ast"
	"go/types"
	"slices"
	"strings"
)

// What writes text down (sinks), what passes it on, and what reveals or
// opens.

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
