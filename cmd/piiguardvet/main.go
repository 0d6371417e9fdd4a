// Command piiguardvet reports personal data on its way to logs, errors and
// JSON in Go code that uses piiguard: the checks of package
// github.com/piiguard/piiguard/analysis/piiguardvet.
//
// Run it through go vet, which gives it the packages' build settings:
//
//	go install github.com/piiguard/piiguard/cmd/piiguardvet
//	go vet -vettool=$(go env GOPATH)/bin/piiguardvet ./...
//
// or on its own, as piiguardvet ./... (flags: piiguardvet -help). -tests
// also checks _test.go files. A finding is silenced by a comment
// "//piiguardvet:ignore REASON" on its line or the line above.
//
// The exit status is that of go vet: 0 when nothing was found, 1 (or 3
// on its own) when something was.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/piiguard/piiguard/analysis/piiguardvet"
)

func main() { singlechecker.Main(piiguardvet.Analyzer) }
