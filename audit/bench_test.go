package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/piiguard/piiguard/audit"
)

// discardLines is a LineWriter that only counts bytes.
type discardLines struct{ n int }

func (d *discardLines) WriteLine(_ context.Context, line []byte) error {
	d.n += len(line) + 1
	return nil
}

// BenchmarkChainRecord measures appending one event to a chain (encode, MAC,
// write to memory), checkpoints every 1000 records included. Compare with
// BenchmarkRawHMAC, the Tink MAC alone on a record of the same size.
func BenchmarkChainRecord(b *testing.B) {
	k := newTestKeys(b)
	c, err := audit.NewChain(&discardLines{}, k.MAC, k.Signer, audit.ChainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	e := testEvent(1)
	ctx := context.Background()
	b.ReportAllocs()
	m := startMeasure()
	for b.Loop() {
		if err := c.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	m.report(b, b.N)
}

func BenchmarkRawHMAC(b *testing.B) {
	k := newTestKeys(b)
	msg := bytes.Repeat([]byte("x"), 420) // a typical record with its prev MAC
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.MAC.ComputeMAC(msg); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	millionOnce sync.Once
	millionLog  []byte
	millionKeys testKeys
)

// BenchmarkVerify1M verifies a log of 1,000,000 events (built once) per
// operation and reports the throughput in events/s.
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	millionOnce.Do(func() {
		millionKeys = newTestKeys(b)
		var buf bytes.Buffer
		buf.Grow(n * 500)
		w := &bufLines{b: &buf}
		c, err := audit.NewChain(w, millionKeys.MAC, millionKeys.Signer, audit.ChainOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for i := range n {
			if err := c.Record(ctx, testEvent(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
		millionLog = buf.Bytes()
	})
	b.SetBytes(int64(len(millionLog)))
	b.ReportAllocs()
	m := startMeasure()
	for b.Loop() {
		rep, err := audit.Verify(bytes.NewReader(millionLog), millionKeys.MAC, millionKeys.Verifier, audit.VerifyOptions{CheckpointEvery: audit.DefaultCheckpointEvery})
		if err != nil || rep.Records != n {
			b.Fatal(rep.Records, err)
		}
	}
	m.report(b, n*b.N)
}

// measure reports a benchmark's throughput in events per second of wall
// time and, where the platform tells, per second of CPU time of the process.
type measure struct {
	wall time.Time
	cpu  time.Duration
}

func startMeasure() measure { return measure{wall: time.Now(), cpu: cpuTime()} }

func (m measure) report(b *testing.B, events int) {
	b.ReportMetric(float64(events)/time.Since(m.wall).Seconds(), "events/s")
	if cpu := cpuTime() - m.cpu; cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
}

type bufLines struct{ b *bytes.Buffer }

func (w *bufLines) WriteLine(_ context.Context, line []byte) error {
	w.b.Write(line)
	w.b.WriteByte('\n')
	return nil
}

func BenchmarkEventMarshal(b *testing.B) {
	e := testEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventUnmarshal(b *testing.B) {
	data, err := testEvent(1).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var e audit.Event
		if err := e.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONUnmarshal is the baseline: encoding/json decoding the
// same line into a plain struct.
func BenchmarkEncodingJSONUnmarshal(b *testing.B) {
	data, err := testEvent(1).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	type plain struct {
		V          int       `json:"v"`
		Time       time.Time `json:"time"`
		Action     string    `json:"action"`
		Outcome    string    `json:"outcome"`
		Actor      string    `json:"actor"`
		Purpose    string    `json:"purpose"`
		RecordType string    `json:"record_type"`
		Field      string    `json:"field"`
		Class      string    `json:"class"`
		SubjectID  string    `json:"subject_id"`
		Decision   string    `json:"decision"`
		Reason     string    `json:"reason"`
		KeyName    string    `json:"key_name"`
		KeyID      uint32    `json:"key_id"`
		RequestID  string    `json:"request_id"`
		TraceID    string    `json:"trace_id"`
	}
	b.ReportAllocs()
	for b.Loop() {
		var p plain
		if err := json.Unmarshal(data, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAsyncSinkRecord(b *testing.B) {
	s := audit.NewAsyncSink(audit.Discard, audit.AsyncOptions{})
	e := testEvent(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkDetectorRecord(b *testing.B) {
	d := audit.NewDetector(audit.Discard, audit.DetectorOptions{MaxReveals: 1 << 20, Honeytokens: []string{"bait"}})
	e := testEvent(0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAsyncSinkRecordStream records events a few microseconds apart,
// as Open reports them, against audit.Discard: the difference is what an
// AsyncSink costs its caller when its goroutine would otherwise be woken
// for each event.
func BenchmarkAsyncSinkRecordStream(b *testing.B) {
	for _, tc := range []struct {
		name string
		sink func() audit.Sink
	}{
		{"discard", func() audit.Sink { return audit.Discard }},
		{"async", func() audit.Sink { return audit.NewAsyncSink(audit.Discard, audit.AsyncOptions{}) }},
		{"async-no-linger", func() audit.Sink { return audit.NewAsyncSink(audit.Discard, audit.AsyncOptions{Linger: -1}) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.sink()
			e := testEvent(1)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for end := time.Now().Add(3 * time.Microsecond); time.Now().Before(end); {
				}
				if err := s.Record(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			if a, ok := s.(*audit.AsyncSink); ok {
				if err := a.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
