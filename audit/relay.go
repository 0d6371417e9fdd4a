package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// maxRelayHeld bounds the events a Relay holds before it is connected.
const maxRelayHeld = 1024

// Relay is a Sink for the time before the sink the events belong in exists.
// Its use is the bootstrap of a chained log whose MAC and signing keys come
// from the keyring that reports to it: the keyring is built with the Relay as
// its sink, creates or loads the chain's keysets (those events are held),
// and once the Chain is open, Connect writes the held events into it and
// makes the Relay forward every later event. Nothing is lost in between and
// nothing is written before the chain has verified the log.
//
// Before Connect, Record holds up to 1024 events and then fails with
// ErrBufferFull, and it refuses reveals (IsReveal) with ErrClosed: an
// event only held in memory is not recorded, so data must not be disclosed
// on it. The zero value is ready to use; a Relay is safe for concurrent use.
type Relay struct {
	mu   sync.Mutex
	held []heldEvent
	next Sink
}

type heldEvent struct {
	ctx context.Context
	e   Event
}

// Record forwards e to the connected sink, or holds it until Connect.
func (r *Relay) Record(ctx context.Context, e Event) error {
	r.mu.Lock()
	next := r.next
	if next == nil {
		defer r.mu.Unlock()
		if IsReveal(e.Action) {
			return fmt.Errorf("%w: relay not connected yet: a %s cannot be recorded", ErrClosed, e.Action)
		}
		if len(r.held) >= maxRelayHeld {
			return fmt.Errorf("%w: relay holds %d events and is not connected", ErrBufferFull, len(r.held))
		}
		r.held = append(r.held, heldEvent{context.WithoutCancel(ctx), e})
		return nil
	}
	r.mu.Unlock()
	return next.Record(ctx, e)
}

// Connect writes the held events into next, in the order they were
// recorded, and forwards every later event to it. If next fails on a held
// event, Connect returns that error, the Relay keeps the events next did not
// take and stays unconnected, so that Connect can be called again (with
// next or another sink). Connecting a connected Relay is an error.
func (r *Relay) Connect(ctx context.Context, next Sink) error {
	if next == nil {
		return errors.New("audit: Relay.Connect needs a sink")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next != nil {
		return errors.New("audit: Relay is already connected")
	}
	for i, h := range r.held {
		if err := ctx.Err(); err != nil {
			r.held = r.held[i:]
			return err
		}
		if err := next.Record(h.ctx, h.e); err != nil {
			r.held = r.held[i:]
			return fmt.Errorf("audit: relay: held event %d of %d not recorded: %w", i+1, i+len(r.held[i:]), err)
		}
	}
	r.held = nil
	r.next = next
	return nil
}

// Held returns the number of events waiting for Connect.
func (r *Relay) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}
