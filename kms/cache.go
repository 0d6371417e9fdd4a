package kms

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// cache is a bounded cache of loaded values with a maximum age. A miss is
// loaded by exactly one caller per key at a time (single-flight); the others
// wait for its result. When a reload of an expired entry fails because the
// backend is unavailable, the expired entry keeps serving for a grace
// period, so that a KMS outage does not stop work that only needs keys
// already in memory. Callers wait for such a reload stalePatience at most,
// then get the old value while it goes on. A failed reload puts the old
// entry back into the cache as a degraded entry, which
// serves hits like any other until staleRetry later; then the next caller
// starts one reload in the background and is served the degraded value at
// once, as is everyone until the reload succeeds or the grace ends. An
// outage thus costs one failed reload per key and staleRetry, not one per
// call (nor a wait of up to the load limit per call when the backend hangs).
//
// Hits take a read lock only: instead of moving the entry to the front of an
// LRU list, they set its referenced bit, and eviction gives referenced
// entries a second chance (the CLOCK approximation of LRU).
type cache[V any] struct {
	maxEntries int
	maxAge     time.Duration
	staleGrace time.Duration
	loadLimit  time.Duration
	clock      func() time.Time
	// timers: expiry is signalled by a timer per entry instead of a clock
	// read per hit (reading the clock costs 40–90 ns on some virtual
	// machines, more than the rest of a hit). Used with the real clock;
	// an injected clock (tests) is read on every hit instead.
	timers bool

	mu      sync.RWMutex
	gen     uint64 // bumped by invalidate: a load begun before is not stored
	entries map[string]*list.Element
	order   *list.List // front: newest or given a second chance
	group   singleflight.Group
}

// staleRetry is how long a degraded entry serves before its value is
// reloaded again (at most the cache's maximum age).
const staleRetry = 5 * time.Second

// stalePatience bounds how long callers wait for the reload of an expired
// entry that could still serve: past it they get the old value while the
// reload goes on, so a backend that hangs costs them this, not the load
// limit.
const stalePatience = time.Second

type cacheEntry[V any] struct {
	key    string
	val    V
	loaded time.Time // when val was loaded from the backend
	// expires is when the entry stops serving hits: loaded plus the
	// maximum age, or staleRetry after a failed reload for a degraded
	// entry. Read on hits only without timers.
	expires  time.Time
	degraded bool // val is served past its age after a failed reload
	ref      atomic.Bool
	// expired is set by the timer when timers are used, and by stop when
	// the entry leaves the cache (replaced, evicted, invalidated, purged).
	expired atomic.Bool
	timer   *time.Timer
}

// stop marks the entry as no longer current and releases its timer. It is
// called, under the cache's lock, on every entry that leaves the cache.
func (e *cacheEntry[V]) stop() {
	e.expired.Store(true)
	if e.timer != nil {
		e.timer.Stop()
	}
}

func newCache[V any](maxEntries int, maxAge, staleGrace, loadLimit time.Duration, clock func() time.Time) *cache[V] {
	timers := clock == nil
	if clock == nil {
		clock = time.Now
	}
	return &cache[V]{
		timers:     timers,
		maxEntries: maxEntries,
		maxAge:     maxAge,
		staleGrace: staleGrace,
		loadLimit:  loadLimit,
		clock:      clock,
		entries:    make(map[string]*list.Element),
		order:      list.New(),
	}
}

// hit returns the entry for key if it has not expired, marking it used.
func (c *cache[V]) hit(key string) *cacheEntry[V] {
	c.mu.RLock()
	el, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry[V])
	if c.timers && e.expired.Load() || !c.timers && !c.clock().Before(e.expires) {
		return nil
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

// fresh returns the cached value for key if it has not expired. It is the
// allocation-free fast path of get.
func (c *cache[V]) fresh(key string) (V, bool) {
	if e := c.hit(key); e != nil {
		return e.val, true
	}
	var zero V
	return zero, false
}

// get returns the cached value for key, loading it on a miss or after it
// expired.
func (c *cache[V]) get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	if v, ok := c.fresh(key); ok {
		return v, nil
	}
	now := c.clock()
	c.mu.RLock()
	var stale *cacheEntry[V]
	if el, ok := c.entries[key]; ok {
		stale = el.Value.(*cacheEntry[V])
	}
	gen := c.gen
	c.mu.RUnlock()
	usable := stale != nil && c.inGrace(stale, now)

	// The load runs detached from the first caller's cancellation (others
	// may be waiting on it) but bounded in time; each caller still stops
	// waiting when its own context ends.
	ch := c.group.DoChan(key, func() (any, error) {
		// A flight that finished between this caller's miss and here has
		// stored the value: use it rather than load again.
		if v, ok := c.fresh(key); ok {
			return v, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.loadLimit)
		defer cancel()
		v, err := load(lctx)
		if err != nil && lctx.Err() != nil && !errors.Is(err, ErrUnavailable) {
			// The backend did not answer within the load limit.
			err = fmt.Errorf("%w: no answer within %v: %w", ErrUnavailable, c.loadLimit, err)
		}
		if err != nil {
			switch {
			case usable && errors.Is(err, ErrUnavailable):
				c.putDegraded(stale, gen)
			case stale != nil && !errors.Is(err, ErrUnavailable):
				// A definitive answer (the key was disabled or destroyed,
				// access was revoked): the old value stops serving.
				c.drop(stale)
			}
			return nil, err
		}
		c.put(key, v, gen)
		return v, nil
	})
	if usable && stale.degraded {
		// Already serving through an outage: the reload just started (or
		// under way) is not waited for.
		return stale.val, nil
	}
	var zero V
	var patience <-chan time.Time
	if usable {
		t := time.NewTimer(min(stalePatience, c.loadLimit))
		defer t.Stop()
		patience = t.C
	}
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-patience:
		// The reload goes on without this caller; until it ends, the old
		// entry serves from the cache, so that nobody else waits for it.
		c.putDegraded(stale, gen)
		return stale.val, nil
	case r := <-ch:
		if r.Err != nil {
			if usable && errors.Is(r.Err, ErrUnavailable) {
				return stale.val, nil
			}
			return zero, r.Err
		}
		return r.Val.(V), nil
	}
}

// inGrace reports whether an expired entry may still serve at now, should
// its reload fail because the backend is unavailable.
func (c *cache[V]) inGrace(e *cacheEntry[V], now time.Time) bool {
	return now.Sub(e.loaded) < c.maxAge+c.staleGrace
}

// put stores a freshly loaded value, unless the cache was invalidated since
// the load began (gen).
func (c *cache[V]) put(key string, v V, gen uint64) {
	now := c.clock()
	e := &cacheEntry[V]{key: key, val: v, loaded: now, expires: now.Add(c.maxAge)}
	c.store(e, c.maxAge, gen)
}

// putDegraded puts an expired entry whose reload failed back into the
// cache, to serve for staleRetry (at most until its grace ends) before the
// next reload is tried.
func (c *cache[V]) putDegraded(old *cacheEntry[V], gen uint64) {
	now := c.clock()
	d := min(staleRetry, c.maxAge, old.loaded.Add(c.maxAge+c.staleGrace).Sub(now))
	if d <= 0 {
		return
	}
	e := &cacheEntry[V]{key: old.key, val: old.val, loaded: old.loaded, expires: now.Add(d), degraded: true}
	c.store(e, d, gen)
}

// drop removes e from the cache if it is still the key's entry, or a
// degraded copy of it (put there while its reload was under way).
func (c *cache[V]) drop(e *cacheEntry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[e.key]
	if !ok {
		return
	}
	if cur := el.Value.(*cacheEntry[V]); cur == e || (cur.degraded && cur.loaded.Equal(e.loaded)) {
		cur.stop()
		c.order.Remove(el)
		delete(c.entries, e.key)
	}
}

// store makes e the key's entry, to expire after d, and evicts past
// maxEntries.
func (c *cache[V]) store(e *cacheEntry[V], d time.Duration, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if el, ok := c.entries[e.key]; ok {
		// Replace the entry rather than change it: readers hold it
		// without the lock.
		el.Value.(*cacheEntry[V]).stop()
		c.order.Remove(el)
	}
	if c.timers {
		e.timer = time.AfterFunc(d, func() { e.expired.Store(true) })
	}
	c.entries[e.key] = c.order.PushFront(e)
	for c.order.Len() > c.maxEntries {
		el := c.order.Back()
		e := el.Value.(*cacheEntry[V])
		if e.ref.Load() {
			// Used since it was last looked at: a second chance.
			e.ref.Store(false)
			c.order.MoveToFront(el)
			continue
		}
		e.stop()
		c.order.Remove(el)
		delete(c.entries, e.key)
	}
}

// invalidate drops key, so that the next get loads it again. A load under
// way is forgotten too, so that its result is not the one served next.
func (c *cache[V]) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.entries[key]; ok {
		el.Value.(*cacheEntry[V]).stop()
		c.order.Remove(el)
		delete(c.entries, key)
	}
	c.group.Forget(key)
}

// purge drops every entry.
func (c *cache[V]) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for el := c.order.Front(); el != nil; el = el.Next() {
		el.Value.(*cacheEntry[V]).stop()
	}
	c.entries = make(map[string]*list.Element)
	c.order.Init()
}

// len returns the number of entries.
func (c *cache[V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.order.Len()
}
