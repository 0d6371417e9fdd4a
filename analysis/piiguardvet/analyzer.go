package piiguardvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
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
