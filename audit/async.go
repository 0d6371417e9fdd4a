package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// FullPolicy says what an AsyncSink does with an event when its buffer is
// full.
type FullPolicy uint8

const (
	// Block waits for room in the buffer, until the caller's context is done
	// (Record then returns the context's error) or the sink is closed.
	Block FullPolicy = iota + 1
	// DropAndCount drops the event, counts it (AsyncStats.Dropped) and
	// returns nil. The audit trail then has a hole: use it only for events
	// whose loss is acceptable, never for reveals.
	DropAndCount
	// Fail refuses the event: Record returns ErrBufferFull and counts it
	// (AsyncStats.Refused). A caller that reveals data on success of Record
	// then fails closed.
	Fail
)

// DefaultAsyncSize is the buffer size of an AsyncSink when AsyncOptions.Size
// is zero.
const DefaultAsyncSize = 1024

// DefaultAsyncLinger is how long an AsyncSink's goroutine waits for more
// events once it has emptied its buffer in a stream of events, when
// AsyncOptions.Linger is zero.
const DefaultAsyncLinger = time.Millisecond

// AsyncOptions are the optional settings of an AsyncSink. The zero value is
// usable: a buffer of DefaultAsyncSize events, Block for ordinary events and
// Fail for reveals.
type AsyncOptions struct {
	// Size is the buffer capacity in events (default DefaultAsyncSize). It
	// bounds the memory the sink holds: Size events and their strings.
	Size int
	// Policy applies to events whose action is not a reveal (default Block).
	Policy FullPolicy
	// RevealPolicy applies to events for which IsReveal is true (default
	// Fail). It should stay Fail or Block: see SplitReveals for the stronger
	// choice of writing reveals synchronously.
	RevealPolicy FullPolicy
	// OnError, when set, is called from the sink's goroutine with the error
	// of every event the next sink failed to record after Record had
	// accepted it. It must not block for long.
	OnError func(error)
	// Linger is how long the sink's goroutine, having emptied the buffer
	// while events keep coming, waits before it takes the next ones
	// (default DefaultAsyncLinger). Waking a parked goroutine for each
	// event costs the caller of Record about a microsecond; lingering
	// takes a stream of events in batches instead. The goroutine still
	// takes an event at once after a quiet period of one Linger, when the
	// buffer is a quarter full, and on Flush and Close. A negative Linger
	// takes every event at once.
	Linger time.Duration
}

// AsyncStats counts what an AsyncSink did.
type AsyncStats struct {
	// Queued is the number of events in the buffer now.
	Queued int
	// Recorded counts events the next sink accepted.
	Recorded uint64
	// Dropped counts events dropped under DropAndCount.
	Dropped uint64
	// Refused counts events refused with ErrBufferFull under Fail.
	Refused uint64
	// Failed counts events the next sink returned an error for.
	Failed uint64
}

type asyncItem struct {
	e     Event
	flush chan error // non-nil: a flush marker, not an event
}

// AsyncSink records events in a goroutine, through a bounded buffer, so
// that callers do not wait for a slow sink (a disk flush, a database
// round trip). What it does when the buffer is full is an explicit policy per
// kind of event (see FullPolicy).
//
// When Record returns nil, the event is queued, not recorded: a later failure
// of the next sink is only counted and reported to OnError. For reveals,
// where "no audit record, no plaintext" must hold, route reveal events around
// the buffer with SplitReveals, or keep RevealPolicy at Fail so that at least
// a full buffer refuses them.
//
// Each time the buffer drains, the next sink is flushed if it is a Flusher:
// over a FileSink with SyncOnFlush this groups many events in one fsync.
//
// Record costs the caller a channel send: the sink's goroutine is not woken
// for each event of a steady stream but lingers (AsyncOptions.Linger) and
// takes what has arrived in a batch; it is woken at once for the first
// event after a quiet period, when the buffer is a quarter full, when it is
// full, and by Flush and Close. An event may so wait up to Linger in the
// buffer before it reaches the next sink.
type AsyncSink struct {
	next    Sink
	policy  FullPolicy
	reveal  FullPolicy
	onError func(error)
	linger  time.Duration
	ch      chan asyncItem
	kick    chan struct{} // ends the goroutine's linger
	kickAt  int           // the buffer length from which Record kicks
	done    chan struct{}
	closing chan struct{}
	cancel  context.CancelFunc

	mu        sync.RWMutex
	closed    bool
	closeOnce sync.Once

	recorded, dropped, refused, failed atomic.Uint64
}

// NewAsyncSink starts an AsyncSink that records into next. Call Close to stop
// it.
func NewAsyncSink(next Sink, opts AsyncOptions) *AsyncSink {
	if opts.Size <= 0 {
		opts.Size = DefaultAsyncSize
	}
	if opts.Policy == 0 {
		opts.Policy = Block
	}
	if opts.RevealPolicy == 0 {
		opts.RevealPolicy = Fail
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultAsyncLinger
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &AsyncSink{
		next:    next,
		policy:  opts.Policy,
		reveal:  opts.RevealPolicy,
		onError: opts.OnError,
		linger:  opts.Linger,
		ch:      make(chan asyncItem, opts.Size),
		kick:    make(chan struct{}, 1),
		kickAt:  max(1, opts.Size/4),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		cancel:  cancel,
	}
	go s.run(ctx)
	return s
}

// run is the sink's goroutine. It takes every event in the buffer, then,
// if it took any, lingers (see AsyncOptions.Linger) without being a waiting
// receiver of the channel, so that Record does not wake it for each event;
// after a quiet linger it parks on the channel, and the next event wakes it.
func (s *AsyncSink) run(ctx context.Context) {
	defer close(s.done)
	flusher, _ := s.next.(Flusher)
	var timer *time.Timer
	if s.linger > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	dirty, busy := false, false
	for {
		var it asyncItem
		var ok bool
		select {
		case it, ok = <-s.ch:
		default:
			// The buffer is empty: flush the next sink, then wait.
			if dirty && flusher != nil {
				if err := flusher.Flush(ctx); err != nil && s.onError != nil {
					s.onError(err)
				}
				dirty = false
			}
			if busy && timer != nil {
				busy = false
				timer.Reset(s.linger)
				select {
				case <-timer.C:
				case <-s.kick:
					timer.Stop()
				case <-s.closing:
					timer.Stop()
				}
				continue
			}
			it, ok = <-s.ch
		}
		if !ok {
			break
		}
		busy = true
		if it.flush != nil {
			var err error
			if flusher != nil {
				err = flusher.Flush(ctx)
			}
			dirty = false
			it.flush <- err
			continue
		}
		if err := s.next.Record(ctx, it.e); err != nil {
			s.failed.Add(1)
			if s.onError != nil {
				s.onError(err)
			}
		} else {
			s.recorded.Add(1)
			dirty = true
		}
	}
	if dirty && flusher != nil {
		if err := flusher.Flush(ctx); err != nil && s.onError != nil {
			s.onError(err)
		}
	}
}

// wake ends the goroutine's linger, if it is lingering.
func (s *AsyncSink) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Record queues e for the next sink, applying the event's FullPolicy when the
// buffer is full. After Close it returns ErrClosed.
func (s *AsyncSink) Record(ctx context.Context, e Event) error {
	policy := s.policy
	if IsReveal(e.Action) {
		policy = s.reveal
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errSinkClosed
	}
	select {
	case s.ch <- asyncItem{e: e}:
		if len(s.ch) >= s.kickAt {
			s.wake()
		}
		return nil
	default:
	}
	s.wake()
	switch policy {
	case DropAndCount:
		s.dropped.Add(1)
		return nil
	case Fail:
		s.refused.Add(1)
		return ErrBufferFull
	}
	select {
	case s.ch <- asyncItem{e: e}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return errSinkClosed
	}
}

// Flush waits until every event queued before the call has been handed to
// the next sink, then flushes the next sink if it is a Flusher. It returns
// the context's error if ctx ends first.
func (s *AsyncSink) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errSinkClosed
	}
	select {
	case s.ch <- asyncItem{flush: done}:
		s.wake()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	case <-s.closing:
		s.mu.RUnlock()
		return errSinkClosed
	}
	s.mu.RUnlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting events (Record then returns ErrClosed), waits until
// the queued events are recorded and the next sink flushed, and returns. If
// ctx ends first, the events still queued are abandoned: the context given to
// the next sink is cancelled, and Close returns the context's error. Close
// does not close the next sink. Calling it again returns nil at once.
func (s *AsyncSink) Close(ctx context.Context) error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closing)
		s.mu.Lock()
		s.closed = true
		close(s.ch)
		s.mu.Unlock()
	})
	if !first {
		return nil
	}
	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return ctx.Err()
	}
}

// Stats returns the sink's counters.
func (s *AsyncSink) Stats() AsyncStats {
	return AsyncStats{
		Queued:   len(s.ch),
		Recorded: s.recorded.Load(),
		Dropped:  s.dropped.Load(),
		Refused:  s.refused.Load(),
		Failed:   s.failed.Load(),
	}
}

// Dropped returns the number of events dropped under DropAndCount.
func (s *AsyncSink) Dropped() uint64 { return s.dropped.Load() }

// SplitReveals returns a Sink that records reveal events (IsReveal) into
// reveals and every other event into others. It is the fail-closed
// arrangement for an AsyncSink: pass the synchronous sink as reveals and an
// AsyncSink over it as others, and a reveal is reported as recorded only once
// it is.
func SplitReveals(reveals, others Sink) Sink {
	return SinkFunc(func(ctx context.Context, e Event) error {
		if IsReveal(e.Action) {
			return reveals.Record(ctx, e)
		}
		return others.Record(ctx, e)
	})
}
