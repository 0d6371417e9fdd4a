package kms

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// cache is a bounded LRU of loaded values with a maximum age. A miss is
// loaded by exactly one caller per key at a time (single-flight); the others
// wait for its result. When a reload of an expired entry fails because the
// backend is unavailable, the expired entry keeps serving for a grace
// period, so that a KMS outage does not stop work that only needs keys
// already in memory.
type cache[V any] struct {
	maxEntries int
	maxAge     time.Duration
	staleGrace time.Duration
	loadLimit  time.Duration
	clock      func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by invalidate: a load begun before is not stored
	entries map[string]*list.Element
	lru     *list.List // front: most recently used
	group   singleflight.Group
}

type cacheEntry[V any] struct {
	key    string
	val    V
	loaded time.Time
}

func newCache[V any](maxEntries int, maxAge, staleGrace, loadLimit time.Duration, clock func() time.Time) *cache[V] {
	return &cache[V]{
		maxEntries: maxEntries,
		maxAge:     maxAge,
		staleGrace: staleGrace,
		loadLimit:  loadLimit,
		clock:      clock,
		entries:    make(map[string]*list.Element),
		lru:        list.New(),
	}
}

// fresh returns the cached value for key if it has not expired. It is the
// allocation-free fast path of get.
func (c *cache[V]) fresh(key string) (V, bool) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry[V])
		if now.Sub(e.loaded) < c.maxAge {
			c.lru.MoveToFront(el)
			return e.val, true
		}
	}
	var zero V
	return zero, false
}

// get returns the cached value for key, loading it on a miss or after it
// expired.
func (c *cache[V]) get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	now := c.clock()
	c.mu.Lock()
	var stale *cacheEntry[V]
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry[V])
		if now.Sub(e.loaded) < c.maxAge {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.val, nil
		}
		stale = e
	}
	c.mu.Unlock()

	// The load runs detached from the first caller's cancellation (others
	// may be waiting on it) but bounded in time; each caller still stops
	// waiting when its own context ends.
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	ch := c.group.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.loadLimit)
		defer cancel()
		v, err := load(lctx)
		if err != nil {
			return nil, err
		}
		c.put(key, v, gen)
		return v, nil
	})
	var zero V
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			if stale != nil && errors.Is(r.Err, ErrUnavailable) && now.Sub(stale.loaded) < c.maxAge+c.staleGrace {
				return stale.val, nil
			}
			return zero, r.Err
		}
		return r.Val.(V), nil
	}
}

func (c *cache[V]) put(key string, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry[V])
		e.val, e.loaded = v, c.clock()
		c.lru.MoveToFront(el)
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry[V]{key: key, val: v, loaded: c.clock()})
	for c.lru.Len() > c.maxEntries {
		el := c.lru.Back()
		c.lru.Remove(el)
		delete(c.entries, el.Value.(*cacheEntry[V]).key)
	}
}

// invalidate drops key, so that the next get loads it again. A load under
// way is forgotten too, so that its result is not the one served next.
func (c *cache[V]) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.entries[key]; ok {
		c.lru.Remove(el)
		delete(c.entries, key)
	}
	c.group.Forget(key)
}

// purge drops every entry.
func (c *cache[V]) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = make(map[string]*list.Element)
	c.lru.Init()
}

// len returns the number of entries.
func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
