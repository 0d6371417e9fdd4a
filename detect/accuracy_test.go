package detect

//go:generate go run ./internal/corpus/gencorpus -o testdata/corpus.jsonl

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

const corpusPath = "testdata/corpus.jsonl"

// f2Targets are the F2 scores the detector must reach on the corpus: 0.95
// for the kinds with a check character or a strict rule, 0.90 for the
// others.
var f2Targets = map[Kind]float64{
	Card: 0.95, CNID: 0.95, IBAN: 0.95, SSN: 0.95, MyNumber: 0.95, NINO: 0.95,
	Email: 0.90, Phone: 0.90, IP: 0.90, DOB: 0.90, Passport: 0.90,
}

// counts are the exact-match counts of one kind.
type counts struct{ tp, fp, fn int }

func (c counts) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c counts) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c counts) f2() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 5 * p * r / (4*p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// evaluate runs d over the corpus: a span counts only when its start, end
// and kind are exactly the label's.
func evaluate(d *Detector, snippets []corpus.Snippet) (map[Kind]*counts, []string) {
	res := map[Kind]*counts{}
	for _, k := range Kinds() {
		res[k] = &counts{}
	}
	var misses []string
	for _, s := range snippets {
		want := map[[3]int]bool{}
		for _, l := range s.Spans {
			k, err := ParseKind(l.Kind)
			if err != nil {
				panic(err)
			}
			want[[3]int{l.Start, l.End, int(k)}] = true
		}
		got := map[[3]int]bool{}
		for _, sp := range d.FindString(s.Text) {
			key := [3]int{sp.Start, sp.End, int(sp.Kind)}
			got[key] = true
			if want[key] {
				res[sp.Kind].tp++
			} else {
				res[sp.Kind].fp++
				misses = append(misses, fmt.Sprintf("FP %-8s #%d %q in %q", sp.Kind, s.ID, s.Text[sp.Start:sp.End], s.Text))
			}
		}
		for key := range want {
			if !got[key] {
				res[Kind(key[2])].fn++
				misses = append(misses, fmt.Sprintf("FN %-8s #%d %q in %q", Kind(key[2]), s.ID, s.Text[key[0]:key[1]], s.Text))
			}
		}
	}
	sort.Strings(misses)
	return res, misses
}

func TestCorpusIsUpToDate(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, corpus.Write(&buf, corpus.Generate(corpus.DefaultSeed, corpus.DefaultSize)))
	file, err := os.ReadFile(corpusPath)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(buf.Bytes(), file), "%s is not what the generator writes: run go generate ./detect", corpusPath)
}

// TestAccuracy prints precision, recall and F2 per kind over the labelled
// corpus and fails below the targets. With -v and DETECT_MISSES=1 it
// lists every miss.
func TestAccuracy(t *testing.T) {
	t.Parallel()
	snippets, err := corpus.Load(corpusPath)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(snippets), 2000)
	res, misses := evaluate(Default(), snippets)
	var sb strings.Builder
	fmt.Fprintf(&sb, "accuracy over %d snippets (exact spans):\n", len(snippets))
	fmt.Fprintf(&sb, "%-9s %6s %5s %5s %9s %7s %6s %6s\n", "kind", "labels", "fp", "fn", "precision", "recall", "F2", "target")
	var total counts
	for _, k := range Kinds() {
		c := res[k]
		total.tp, total.fp, total.fn = total.tp+c.tp, total.fp+c.fp, total.fn+c.fn
		fmt.Fprintf(&sb, "%-9s %6d %5d %5d %9.3f %7.3f %6.3f %6.2f\n", k, c.tp+c.fn, c.fp, c.fn, c.precision(), c.recall(), c.f2(), f2Targets[k])
	}
	fmt.Fprintf(&sb, "%-9s %6d %5d %5d %9.3f %7.3f %6.3f\n", "all", total.tp+total.fn, total.fp, total.fn, total.precision(), total.recall(), total.f2())
	t.Log("\n" + sb.String())
	if os.Getenv("DETECT_MISSES") != "" {
		t.Log("\n" + strings.Join(misses, "\n"))
	}
	for _, k := range Kinds() {
		assert.GreaterOrEqual(t, res[k].f2(), f2Targets[k], "F2 of %s", k)
	}
}
