package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// gateSink blocks every Record until the gate is opened.
type gateSink struct {
	memSink
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	flushes int
	fmu     sync.Mutex
}

func newGateSink() *gateSink {
	return &gateSink{gate: make(chan struct{}), entered: make(chan struct{})}
}

func (g *gateSink) Record(ctx context.Context, e audit.Event) error {
	g.once.Do(func() { close(g.entered) })
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.memSink.Record(ctx, e)
}

func (g *gateSink) Flush(context.Context) error {
	g.fmu.Lock()
	defer g.fmu.Unlock()
	g.flushes++
	return nil
}

func (g *gateSink) open() { close(g.gate) }

// fillAsync returns an AsyncSink of size 2 whose worker is stuck in the next
// sink on a first event and whose buffer holds two more: it is full.
func fillAsync(t *testing.T, opts audit.AsyncOptions) (*audit.AsyncSink, *gateSink) {
	t.Helper()
	next := newGateSink()
	opts.Size = 2
	s := audit.NewAsyncSink(next, opts)
	ctx := context.Background()
	search := testEvent(1) // not a reveal
	require.NoError(t, s.Record(ctx, search))
	<-next.entered
	require.NoError(t, s.Record(ctx, search))
	require.NoError(t, s.Record(ctx, search))
	require.Equal(t, 2, s.Stats().Queued)
	return s, next
}

func TestAsyncSinkFullPolicyBlock(t *testing.T) {
	s, next := fillAsync(t, audit.AsyncOptions{Policy: audit.Block})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Record(ctx, testEvent(1)), context.DeadlineExceeded, "Block waits until the context ends")

	done := make(chan error, 1)
	go func() { done <- s.Record(context.Background(), testEvent(6)) }()
	select {
	case <-done:
		t.Fatal("Record returned while the buffer was full")
	case <-time.After(20 * time.Millisecond):
	}
	next.open()
	require.NoError(t, <-done, "Block goes on once there is room")
	require.NoError(t, s.Close(context.Background()))
	assert.Len(t, next.all(), 4)
	assert.Equal(t, uint64(4), s.Stats().Recorded)
}

func TestAsyncSinkFullPolicyDropAndCount(t *testing.T) {
	s, next := fillAsync(t, audit.AsyncOptions{Policy: audit.DropAndCount})
	for range 5 {
		require.NoError(t, s.Record(context.Background(), testEvent(1)))
	}
	assert.Equal(t, uint64(5), s.Dropped())
	assert.Equal(t, uint64(5), s.Stats().Dropped)
	next.open()
	require.NoError(t, s.Close(context.Background()))
	assert.Len(t, next.all(), 3)
}

func TestAsyncSinkFullPolicyFail(t *testing.T) {
	s, next := fillAsync(t, audit.AsyncOptions{Policy: audit.Fail})
	assert.ErrorIs(t, s.Record(context.Background(), testEvent(1)), audit.ErrBufferFull)
	assert.Equal(t, uint64(1), s.Stats().Refused)
	next.open()
	require.NoError(t, s.Close(context.Background()))
}

func TestAsyncSinkRevealsFailWhenFullByDefault(t *testing.T) {
	s, next := fillAsync(t, audit.AsyncOptions{Policy: audit.DropAndCount})
	reveal := testEvent(0)
	require.True(t, audit.IsReveal(reveal.Action))
	assert.ErrorIs(t, s.Record(context.Background(), reveal), audit.ErrBufferFull, "no audit record, no plaintext")
	assert.Zero(t, s.Dropped())
	next.open()
	require.NoError(t, s.Close(context.Background()))
}

func TestAsyncSinkFlushWaitsForQueuedEventsAndFlushesNext(t *testing.T) {
	next := newGateSink()
	s := audit.NewAsyncSink(next, audit.AsyncOptions{})
	ctx := context.Background()
	for i := range 5 {
		require.NoError(t, s.Record(ctx, testEvent(i*5+1)))
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Flush(short), context.DeadlineExceeded)
	next.open()
	require.NoError(t, s.Flush(ctx))
	assert.Len(t, next.all(), 5)
	next.fmu.Lock()
	assert.Positive(t, next.flushes)
	next.fmu.Unlock()
	require.NoError(t, s.Close(ctx))
	assert.ErrorIs(t, s.Flush(ctx), audit.ErrClosed)
	assert.ErrorIs(t, s.Record(ctx, testEvent(1)), audit.ErrClosed)
	require.NoError(t, s.Close(ctx), "Close is idempotent")
}

func TestAsyncSinkCloseAbandonsQueueWhenContextEnds(t *testing.T) {
	s, next := fillAsync(t, audit.AsyncOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Close(ctx), context.DeadlineExceeded)
	// The next sink's context is cancelled: the stuck event and the queued
	// ones fail instead of hanging the goroutine.
	assert.Eventually(t, func() bool { return s.Stats().Failed == 3 }, time.Second, time.Millisecond)
	assert.Empty(t, next.all())
}

func TestAsyncSinkCountsAndReportsNextSinkErrors(t *testing.T) {
	boom := errors.New("database down")
	next := &memSink{err: boom}
	var mu sync.Mutex
	var got []error
	s := audit.NewAsyncSink(next, audit.AsyncOptions{OnError: func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	}})
	require.NoError(t, s.Record(context.Background(), testEvent(1)), "queued: the failure comes later")
	require.NoError(t, s.Close(context.Background()))
	assert.Equal(t, uint64(1), s.Stats().Failed)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []error{boom}, got)
}

func TestAsyncSinkConcurrentRecordAndClose(t *testing.T) {
	next := &memSink{}
	s := audit.NewAsyncSink(next, audit.AsyncOptions{Size: 8})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				err := s.Record(context.Background(), testEvent(g*1000+i*5+1))
				if err != nil {
					assert.ErrorIs(t, err, audit.ErrClosed)
					return
				}
			}
		})
	}
	time.Sleep(time.Millisecond)
	require.NoError(t, s.Close(context.Background()))
	wg.Wait()
	st := s.Stats()
	assert.Equal(t, st.Recorded, uint64(len(next.all())))
}

func TestSplitRevealsRecordsRevealsSynchronously(t *testing.T) {
	ctx := context.Background()
	down := errors.New("disk full")
	sync := &memSink{err: down}
	others := &memSink{}
	sink := audit.SplitReveals(sync, others)
	assert.ErrorIs(t, sink.Record(ctx, testEvent(0)), down, "a reveal fails with its sink")
	require.NoError(t, sink.Record(ctx, testEvent(1)))
	assert.Len(t, others.all(), 1)
}

func TestAsyncSinkOverFileSinkGroupsFsyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := audit.NewFileSink(path, audit.FileOptions{Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	s := audit.NewAsyncSink(file, audit.AsyncOptions{Size: 64})
	ctx := context.Background()
	for i := range 50 {
		require.NoError(t, s.Record(ctx, testEvent(i*5+1)))
	}
	require.NoError(t, s.Close(ctx))
	require.NoError(t, file.Close())
	got, err := audit.QueryFiles(ctx, path, audit.Query{})
	require.NoError(t, err)
	assert.Len(t, got, 50)
}

// A sink whose goroutine lingers for an hour still takes the first event of
// a quiet period at once, a buffer a quarter full at once, and everything
// on Flush and Close.
func TestAsyncSinkLingerNeverHoldsBackWhatMustGoOn(t *testing.T) {
	next := &memSink{}
	s := audit.NewAsyncSink(next, audit.AsyncOptions{Size: 8, Linger: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	require.NoError(t, s.Record(ctx, testEvent(1)))
	require.Eventually(t, func() bool { return len(next.all()) == 1 }, 2*time.Second, time.Millisecond, "the first event after a quiet period")
	time.Sleep(20 * time.Millisecond) // the goroutine is lingering now

	require.NoError(t, s.Record(ctx, testEvent(6)))
	require.NoError(t, s.Flush(ctx), "Flush ends the linger")
	assert.Len(t, next.all(), 2)

	time.Sleep(20 * time.Millisecond)
	for i := range 2 { // 8/4: a quarter full
		require.NoError(t, s.Record(ctx, testEvent(11+5*i)))
	}
	require.Eventually(t, func() bool { return len(next.all()) == 4 }, 2*time.Second, time.Millisecond, "a quarter-full buffer")

	time.Sleep(20 * time.Millisecond)
	require.NoError(t, s.Record(ctx, testEvent(21)))
	require.NoError(t, s.Close(ctx), "Close ends the linger")
	assert.Len(t, next.all(), 5)
	assert.Equal(t, uint64(5), s.Stats().Recorded)
}

func TestAsyncSinkNegativeLingerTakesEachEventAtOnce(t *testing.T) {
	next := &memSink{}
	s := audit.NewAsyncSink(next, audit.AsyncOptions{Size: 64, Linger: -1})
	defer s.Close(context.Background())
	for i := range 3 {
		require.NoError(t, s.Record(context.Background(), testEvent(1+5*i)))
		require.Eventually(t, func() bool { return len(next.all()) == i+1 }, 2*time.Second, time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
}

// A full buffer wakes a lingering goroutine: Block goes on, and Fail
// refuses only while the buffer is really full.
func TestAsyncSinkFullBufferEndsTheLinger(t *testing.T) {
	for _, policy := range []audit.FullPolicy{audit.Block, audit.Fail} {
		next := &memSink{}
		s := audit.NewAsyncSink(next, audit.AsyncOptions{Size: 4, Linger: time.Hour, Policy: policy})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, s.Record(ctx, testEvent(1)))
		require.Eventually(t, func() bool { return len(next.all()) == 1 }, 2*time.Second, time.Millisecond)
		accepted := 1
		for i := range 200 {
			if err := s.Record(ctx, testEvent(1+5*i)); err == nil {
				accepted++
			} else {
				require.ErrorIs(t, err, audit.ErrBufferFull)
				time.Sleep(time.Millisecond)
			}
		}
		require.NoError(t, s.Close(ctx))
		cancel()
		assert.Len(t, next.all(), accepted)
		assert.Greater(t, accepted, 100, "policy %d", policy)
	}
}
