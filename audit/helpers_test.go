package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/signature"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// testKeys holds a chain MAC and a checkpoint signer and verifier.
type testKeys struct {
	MAC      tink.MAC
	Signer   tink.Signer
	Verifier tink.Verifier
}

func newTestKeys(tb testing.TB) testKeys {
	tb.Helper()
	mh, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	require.NoError(tb, err)
	m, err := mac.New(mh)
	require.NoError(tb, err)
	sh, err := keyset.NewHandle(signature.ED25519KeyTemplate())
	require.NoError(tb, err)
	s, err := signature.NewSigner(sh)
	require.NoError(tb, err)
	ph, err := sh.Public()
	require.NoError(tb, err)
	v, err := signature.NewVerifier(ph)
	require.NoError(tb, err)
	return testKeys{MAC: m, Signer: s, Verifier: v}
}

// memLines is an in-memory LineWriter.
type memLines struct {
	mu    sync.Mutex
	lines [][]byte
	fail  error
}

func (m *memLines) WriteLine(_ context.Context, line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.lines = append(m.lines, append([]byte(nil), line...))
	return nil
}

func (m *memLines) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return join(m.lines)
}

func join(lines [][]byte) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func splitLines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// memSink is a Sink that keeps events.
type memSink struct {
	mu     sync.Mutex
	events []audit.Event
	err    error
}

func (m *memSink) Record(_ context.Context, e audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.events = append(m.events, e)
	return nil
}

func (m *memSink) all() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.events...)
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// testEvent returns a deterministic, fully populated event number i.
func testEvent(i int) audit.Event {
	actions := []audit.Action{audit.ActionReveal, audit.ActionSearch, audit.ActionTokenize, audit.ActionDetokenize, audit.ActionKeyRotate}
	decisions := []string{audit.DecisionAllow, audit.DecisionMask, audit.DecisionDeny}
	return audit.Event{
		Time:       t0.Add(time.Duration(i) * time.Second),
		Action:     actions[i%len(actions)],
		Outcome:    audit.OutcomeSuccess,
		Actor:      fmt.Sprintf("user-%d", i%7),
		Purpose:    "support",
		RecordType: "crm.Customer",
		Field:      "Email",
		Class:      "email",
		SubjectID:  fmt.Sprintf("cust-%d", i%11),
		Decision:   decisions[i%len(decisions)],
		Reason:     "rule:own-accounts",
		KeyName:    "fields",
		KeyID:      uint32(1000 + i%3),
		RequestID:  fmt.Sprintf("req-%d", i),
		TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
	}
}

// writeChain writes n test events through a new chain and returns the lines.
func writeChain(tb testing.TB, k testKeys, n int, opts audit.ChainOptions) [][]byte {
	tb.Helper()
	w := &memLines{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	c, err := audit.NewChain(w, k.MAC, k.Signer, opts)
	require.NoError(tb, err)
	ctx := context.Background()
	for i := range n {
		require.NoError(tb, c.Record(ctx, testEvent(i)))
	}
	require.NoError(tb, c.Close(ctx))
	return w.lines
}

func randomSuffix(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(tb, err)
	return hex.EncodeToString(b[:])
}
