package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type alertLog struct {
	mu     sync.Mutex
	alerts []audit.Alert
}

func (l *alertLog) add(a audit.Alert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.alerts = append(l.alerts, a)
}

func (l *alertLog) all() []audit.Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audit.Alert(nil), l.alerts...)
}

func reveal(actor, subject string) audit.Event {
	return audit.Event{Time: t0, Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess, Actor: actor, SubjectID: subject, Field: "Email"}
}

func TestDetectorRaisesRateAlertOncePerBurst(t *testing.T) {
	clock := &fakeClock{now: t0}
	alerts := &alertLog{}
	next := &memSink{}
	d := audit.NewDetector(next, audit.DetectorOptions{
		Window: time.Minute, MaxReveals: 3, OnAlert: alerts.add, Now: clock.Now,
	})
	ctx := context.Background()
	for range 3 {
		require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
		clock.Advance(time.Second)
	}
	assert.Empty(t, alerts.all())
	require.NoError(t, d.Record(ctx, reveal("u1", "c2")), "without Block the reveal goes on")
	require.NoError(t, d.Record(ctx, reveal("u1", "c3")))
	got := alerts.all()
	require.Len(t, got, 1, "one alert per burst")
	assert.Equal(t, audit.AlertRate, got[0].Kind)
	assert.Equal(t, "u1", got[0].Actor)
	assert.Equal(t, 4, got[0].Count)
	assert.False(t, got[0].Blocked)
	assert.Len(t, next.all(), 5)

	// Other principals and non-reveals are not counted.
	require.NoError(t, d.Record(ctx, reveal("u2", "c1")))
	for range 10 {
		require.NoError(t, d.Record(ctx, audit.Event{Time: t0, Action: audit.ActionSearch, Actor: "u2"}))
	}
	assert.Len(t, alerts.all(), 1)

	// The window slides: a minute later u1 starts afresh, and a new burst
	// raises a new alert.
	clock.Advance(2 * time.Minute)
	for range 3 {
		require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
	}
	assert.Len(t, alerts.all(), 1)
	require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
	assert.Len(t, alerts.all(), 2)
}

func TestDetectorBlocksAfterRateAlert(t *testing.T) {
	clock := &fakeClock{now: t0}
	alerts := &alertLog{}
	next := &memSink{}
	d := audit.NewDetector(next, audit.DetectorOptions{
		MaxReveals: 2, Block: true, BlockFor: 10 * time.Minute, OnAlert: alerts.add, Now: clock.Now,
	})
	ctx := context.Background()
	require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
	require.NoError(t, d.Record(ctx, reveal("u1", "c2")))
	assert.True(t, d.Allow("u1"))
	assert.ErrorIs(t, d.Record(ctx, reveal("u1", "c3")), audit.ErrBlocked, "the reveal over the threshold is refused")
	assert.False(t, d.Allow("u1"))
	assert.True(t, d.Allow("u2"))
	assert.ErrorIs(t, d.Record(ctx, reveal("u1", "c4")), audit.ErrBlocked)
	require.NoError(t, d.Record(ctx, audit.Event{Time: t0, Action: audit.ActionSearch, Actor: "u1"}), "only reveals are blocked")
	require.Len(t, alerts.all(), 1)
	assert.True(t, alerts.all()[0].Blocked)

	// Refused reveals are still recorded, as failures.
	events := next.all()
	require.Len(t, events, 5)
	assert.Equal(t, audit.OutcomeFailure, events[2].Outcome)
	assert.Equal(t, "blocked", events[2].Error)

	clock.Advance(11 * time.Minute)
	assert.True(t, d.Allow("u1"), "the block expires")
	require.NoError(t, d.Record(ctx, reveal("u1", "c5")))
}

func TestDetectorUnblock(t *testing.T) {
	d := audit.NewDetector(&memSink{}, audit.DetectorOptions{MaxReveals: 1, Block: true})
	ctx := context.Background()
	require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
	assert.ErrorIs(t, d.Record(ctx, reveal("u1", "c1")), audit.ErrBlocked)
	d.Unblock("u1")
	assert.True(t, d.Allow("u1"))
	require.NoError(t, d.Record(ctx, reveal("u1", "c1")))
}

func TestDetectorHoneytokenAlertsImmediately(t *testing.T) {
	alerts := &alertLog{}
	next := &memSink{}
	d := audit.NewDetector(next, audit.DetectorOptions{
		Honeytokens: []string{"bait-1"}, BlockOnHoneytoken: true, OnAlert: alerts.add,
	})
	d.AddHoneytoken("bait-2")
	ctx := context.Background()
	require.NoError(t, d.Record(ctx, audit.Event{Time: t0, Action: audit.ActionSearch, Actor: "u1", SubjectID: "bait-1"}), "a search is not a reveal")
	assert.Empty(t, alerts.all())

	require.NoError(t, d.Record(ctx, reveal("u1", "bait-2")), "the bait itself is served")
	got := alerts.all()
	require.Len(t, got, 1)
	assert.Equal(t, audit.AlertHoneytoken, got[0].Kind)
	assert.Equal(t, "bait-2", got[0].SubjectID)
	assert.True(t, got[0].Blocked)
	assert.False(t, d.Allow("u1"))
	assert.ErrorIs(t, d.Record(ctx, reveal("u1", "c1")), audit.ErrBlocked)

	detok := audit.Event{Time: t0, Action: audit.ActionDetokenize, Actor: "u2", SubjectID: "bait-1"}
	require.NoError(t, d.Record(ctx, detok))
	assert.Len(t, alerts.all(), 2)
	assert.False(t, d.Allow("u2"))
}

func TestDetectorForwardsNextSinkErrors(t *testing.T) {
	boom := errors.New("sink down")
	d := audit.NewDetector(&memSink{err: boom}, audit.DetectorOptions{MaxReveals: 1, Block: true})
	ctx := context.Background()
	assert.ErrorIs(t, d.Record(ctx, reveal("u1", "c1")), boom)
	err := d.Record(ctx, reveal("u1", "c1"))
	assert.ErrorIs(t, err, audit.ErrBlocked)
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, d.Record(ctx, testEvent(1)), boom)
}

func TestDetectorForgetsIdlePrincipals(t *testing.T) {
	clock := &fakeClock{now: t0}
	alerts := &alertLog{}
	d := audit.NewDetector(&memSink{}, audit.DetectorOptions{MaxReveals: 2, Now: clock.Now, OnAlert: alerts.add})
	ctx := context.Background()
	for i := range 100 {
		require.NoError(t, d.Record(ctx, reveal("u"+string(rune('a'+i%26)), "c")))
		clock.Advance(10 * time.Second)
	}
	assert.Empty(t, alerts.all())
}

func TestDetectorIsSafeForConcurrentUse(t *testing.T) {
	alerts := &alertLog{}
	d := audit.NewDetector(&memSink{}, audit.DetectorOptions{MaxReveals: 50, Block: true, OnAlert: alerts.add})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 4 {
		wg.Go(func() {
			for range 100 {
				err := d.Record(context.Background(), reveal("u1", "c"))
				if err == nil {
					mu.Lock()
					allowed++
					mu.Unlock()
				} else {
					assert.ErrorIs(t, err, audit.ErrBlocked)
				}
				d.Allow("u1")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 50, allowed, "exactly MaxReveals reveals went through")
	assert.Len(t, alerts.all(), 1)
	assert.False(t, d.Allow("u1"))
}
