package detect

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/piiguard/piiguard/detect/internal/corpus"
)

// baseline is the plain regexp alternation a detector is usually first
// written as: the same kinds, no validation, no context. It is the yard
// stick for BenchmarkFind, not a detector (it finds every long number).
var baseline = regexp.MustCompile(strings.Join([]string{
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,              // email
	`\+\d{1,3}[ -]?\d[\d -]{6,14}\d`,                              // phone, international
	`\b1[3-9]\d{9}\b`,                                             // phone, Chinese mobile
	`\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b`,                         // phone, NANP
	`\b(?:\d[ -]?){12,18}\d\b`,                                    // card
	`\b\d{17}[\dXx]\b`,                                            // Chinese resident ID
	`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`, // IBAN
	`\b(?:\d{1,3}\.){3}\d{1,3}\b`,                                 // IPv4
	`\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b`,              // IPv6
	`\b\d{3}-\d{2}-\d{4}\b`,                                       // SSN
	`\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]?\b`,                   // NINO
	`\b\d{4}[ -]?\d{4}[ -]?\d{4}\b`,                               // My Number
	`\b\d{4}[-/]\d{2}[-/]\d{2}\b`,                                 // date of birth
	`\b[A-Z]{1,2}\d{6,9}\b`,                                       // passport
}, "|"))

// mixedLogs returns about size bytes of log lines: four in five are the
// ordinary lines of a service (timestamps, request IDs, durations, paths,
// counters), one in five a snippet of the accuracy corpus, two thirds of
// which hold personal data.
var mixedLogs = sync.OnceValues(func() (string, string) {
	const size = 1 << 20
	r := rand.New(rand.NewPCG(42, 42))
	snippets := corpus.Generate(99, 4000)
	var sb strings.Builder
	hex := func(n int) string {
		const x = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = x[r.IntN(16)]
		}
		return string(b)
	}
	paths := []string{"/api/v1/orders", "/healthz", "/api/v2/users/me", "/static/app.js", "/api/v1/payments/confirm", "/metrics"}
	msgs := []string{"request completed", "cache miss", "connection reset by peer", "retrying", "job finished", "slow query"}
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, "2024-05-%02dT%02d:%02d:%02d.%03dZ %s ", 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000),
			[]string{"INFO", "INFO", "WARN", "DEBUG", "ERROR"}[r.IntN(5)])
		if i%5 == 4 {
			sb.WriteString(strings.ReplaceAll(snippets[i%len(snippets)].Text, "\n", " "))
		} else {
			fmt.Fprintf(&sb, "%s method=%s path=%s status=%d latency=%dms bytes=%d request_id=%s-%s-%s trace=%s user_agent=\"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.%d.%d\"",
				msgs[r.IntN(len(msgs))], []string{"GET", "POST", "PUT"}[r.IntN(3)], paths[r.IntN(len(paths))],
				[]int{200, 200, 201, 204, 304, 404, 500}[r.IntN(7)], r.IntN(3000), r.IntN(1<<20), hex(8), hex(4), hex(12), hex(32), 6000+r.IntN(400), r.IntN(200))
		}
		sb.WriteByte('\n')
	}
	var dense strings.Builder
	for _, s := range snippets {
		dense.WriteString(s.Text)
		dense.WriteByte('\n')
	}
	return sb.String(), dense.String()
})

// BenchmarkFind measures the detector and the regexp baseline on the same
// inputs, interleaved: go test -bench Find -count 5.
func BenchmarkFind(b *testing.B) {
	mixed, dense := mixedLogs()
	for _, in := range []struct{ name, text string }{{"mixed-logs", mixed}, {"pii-dense", dense}} {
		data := []byte(in.text)
		b.Run(in.name+"/detect", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			d := Default()
			n := 0
			cpu := cpuSeconds()
			for b.Loop() {
				n = len(d.Find(data))
			}
			b.ReportMetric(float64(n), "spans")
			b.ReportMetric(float64(b.N*len(data))/1e6/(cpuSeconds()-cpu), "MB/cpu-s")
		})
		b.Run(in.name+"/regexp", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			cpu := cpuSeconds()
			for b.Loop() {
				n = len(baseline.FindAllIndex(data, -1))
			}
			b.ReportMetric(float64(n), "spans")
			b.ReportMetric(float64(b.N*len(data))/1e6/(cpuSeconds()-cpu), "MB/cpu-s")
		})
	}
}

// cpuSeconds returns the CPU time the process has used. On a machine
// shared with other work, wall-clock MB/s understates what one core does;
// BenchmarkFind reports both.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkHandler measures what redaction adds to a log record: a JSON
// handler writing to io.Discard, bare and wrapped, on a record with a
// message and five attributes, clean and with personal data.
func BenchmarkHandler(b *testing.B) {
	bare := slog.NewJSONHandler(io.Discard, nil)
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{{"bare", bare}, {"redacting", NewHandler(bare, nil)}} {
		log := slog.New(h.h)
		b.Run("clean/"+h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				log.Info("request completed", "method", "GET", "path", "/api/v1/orders", "status", 200, "latency_ms", 12, "request_id", "9f86d081-884c-7d65-9a2f-eaa0c55ad015")
			}
		})
		b.Run("pii/"+h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				log.Info("login by bob@example.com", "method", "POST", "path", "/api/v1/login", "status", 200, "phone", "13812345678", "client", "203.0.113.7")
			}
		})
	}
}
