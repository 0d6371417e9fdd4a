// Command gencorpus writes the labelled accuracy corpus of package detect:
//
//	go run ./detect/internal/corpus/gencorpus -o detect/testdata/corpus.jsonl
//
// It is deterministic: the same seed and size write the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

func main() {
	out := flag.String("o", "corpus.jsonl", "output file")
	seed := flag.Uint64("seed", corpus.DefaultSeed, "random seed")
	n := flag.Int("n", corpus.DefaultSize, "number of snippets")
	flag.Parse()
	f, err := os.Create(*out)
	if err == nil {
		err = corpus.Write(f, corpus.Generate(*seed, *n))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}
