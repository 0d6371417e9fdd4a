package pkcs11

import (
	"context"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"
)

// session is an open PKCS#11 session of one module generation.
type session struct {
	h   p11.SessionHandle
	gen uint64
}

// sessionPool bounds the sessions a driver has open and keeps idle ones
// for reuse, so that concurrent callers each get their own session (a
// PKCS#11 session runs one operation at a time) without opening one per
// call. It does no PKCS#11 call itself: the driver opens and closes.
type sessionPool struct {
	idle  chan *session // idle sessions, at most cap(slots)
	slots chan struct{} // one token per open session (idle or in use)

	opened    atomic.Int64 // sessions opened by get, ever
	highWater atomic.Int64 // most sessions open at once
}

func newSessionPool(max int) *sessionPool {
	return &sessionPool{idle: make(chan *session, max), slots: make(chan struct{}, max)}
}

// get returns an idle session, or opens one with open if fewer than the
// maximum are open, or waits for one to be released or for ctx to end.
func (p *sessionPool) get(ctx context.Context, open func() (*session, error)) (*session, error) {
	select {
	case s := <-p.idle:
		return s, nil
	default:
	}
	select {
	case s := <-p.idle:
		return s, nil
	case p.slots <- struct{}{}:
		s, err := open()
		if err != nil {
			<-p.slots
			return nil, err
		}
		p.opened.Add(1)
		p.noteOpen()
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put returns a session in good order to the pool.
func (p *sessionPool) put(s *session) { p.idle <- s }

// adopt adds a session opened outside get, if there is room; it reports
// whether it did (if not, the caller closes the session).
func (p *sessionPool) adopt(s *session) bool {
	select {
	case p.slots <- struct{}{}:
		p.idle <- s
		p.noteOpen()
		return true
	default:
		return false
	}
}

// forget gives up the slot of a session taken from the pool that the
// caller has closed or abandoned.
func (p *sessionPool) forget(*session) { <-p.slots }

// drain removes every idle session from the pool and returns them; their
// slots are given up, and the caller closes them.
func (p *sessionPool) drain() []*session {
	var out []*session
	for {
		select {
		case s := <-p.idle:
			<-p.slots
			out = append(out, s)
		default:
			return out
		}
	}
}

// noteOpen records the number of open sessions in the high-water mark.
func (p *sessionPool) noteOpen() {
	n := int64(len(p.slots))
	for {
		hw := p.highWater.Load()
		if n <= hw || p.highWater.CompareAndSwap(hw, n) {
			return
		}
	}
}
