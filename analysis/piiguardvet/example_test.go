package piiguardvet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/piiguard/piiguard/analysis/piiguardvet"
)

// The analyzer run from Go, as go vet runs it: load a package, analyze
// it, print the diagnostics. The package here is testdata/src/records, a
// record marshalled to JSON and logged after Open.
func Example() {
	gopath, _ := filepath.Abs("testdata")
	cfg := &packages.Config{
		Mode: packages.LoadAllSyntax,
		Dir:  filepath.Join(gopath, "src", "records"),
		Env:  append(os.Environ(), "GOPATH="+gopath, "GO111MODULE=off", "GOFLAGS="),
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil || packages.PrintErrors(pkgs) > 0 {
		panic("the package does not load")
	}
	graph, err := checker.Analyze([]*analysis.Analyzer{piiguardvet.Analyzer}, pkgs, nil)
	if err != nil {
		panic(err)
	}
	for act := range graph.All() {
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			msg, _, _ := strings.Cut(d.Message, ":")
			fmt.Printf("%s:%d: [%s] %s\n", filepath.Base(pos.Filename), pos.Line, d.Category, msg)
		}
	}
	// Output:
	// records.go:47: [record] record c is marshalled by json.Marshal after Open
	// records.go:48: [record] record &c is marshalled by json.MarshalIndent after Open
	// records.go:49: [record] record c is marshalled by (*json.Encoder).Encode after Open
	// records.go:50: [record] record c is logged by log.Printf after Open
	// records.go:51: [record] record c is logged by slog.Info after Open
	// records.go:52: [record] record &c is logged by slog.Info after Open
	// records.go:70: [record] record h is logged by log.Println after Open
	// records.go:72: [record] record st is marshalled by json.Marshal after Open
	// records.go:73: [record] record cs is marshalled by json.Marshal after Open
}
