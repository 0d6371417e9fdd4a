package audit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// AlertKind names what a Detector noticed.
type AlertKind string

// Alert kinds.
const (
	// AlertRate: a principal revealed more than DetectorOptions.MaxReveals
	// times within DetectorOptions.Window.
	AlertRate AlertKind = "rate"
	// AlertHoneytoken: a reveal touched a honeytoken subject, a record that
	// no legitimate flow ever reads.
	AlertHoneytoken AlertKind = "honeytoken"
)

// Alert is what a Detector reports. Like an Event it holds identifiers, never
// values.
type Alert struct {
	Kind AlertKind
	// Actor is the principal whose reveal raised the alert.
	Actor string
	// SubjectID is the subject of that reveal (the honeytoken for
	// AlertHoneytoken).
	SubjectID string
	// Count is the number of reveals by Actor within Window, that one
	// included.
	Count  int
	Window time.Duration
	// Blocked reports that Actor is now blocked from revealing.
	Blocked bool
	// Time is when the alert was raised.
	Time time.Time
	// Event is the reveal event that raised the alert.
	Event Event
}

// DefaultDetectorWindow is the window of a Detector when
// DetectorOptions.Window is zero.
const DefaultDetectorWindow = time.Minute

// DetectorOptions are the optional settings of a Detector. The zero value
// forwards every event and detects nothing.
type DetectorOptions struct {
	// Window is the length of the sliding window over which reveals are
	// counted per principal (default DefaultDetectorWindow).
	Window time.Duration
	// MaxReveals, when positive, is the number of reveals a principal may
	// make within Window: the next one raises an AlertRate.
	MaxReveals int
	// Block makes a rate alert block the principal: the reveal that crossed
	// the threshold and every later one fail with ErrBlocked.
	Block bool
	// BlockOnHoneytoken blocks a principal whose reveal touched a
	// honeytoken. That reveal itself still goes through (it discloses only
	// bait, and refusing it would tip off whoever made it); later ones fail.
	BlockOnHoneytoken bool
	// BlockFor is how long a block lasts (default: until Unblock).
	BlockFor time.Duration
	// Honeytokens are subject IDs of bait records (see AddHoneytoken).
	Honeytokens []string
	// OnAlert, when set, is called with every alert, synchronously, after
	// the Detector released its lock (it may call the Detector).
	OnAlert func(Alert)
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Detector is a Sink that watches the reveal events going to another Sink
// and raises alerts: a principal revealing more than a threshold within a
// sliding window, and any reveal of a honeytoken subject. It can also block a
// principal, and then enforces the block itself: Record returns ErrBlocked
// for that principal's reveals (after forwarding the event with outcome
// failure and error "blocked"), so a caller that fails closed on the audit
// error reveals nothing. Allow lets a caller check before doing the work.
//
// Reveals are counted per Event.Actor; those without an actor are counted
// together, under the empty principal. A Detector sees the events of one
// process; a fleet needs its detection on the shared log. Memory is bounded by the number of principals active within
// a window, times MaxReveals.
type Detector struct {
	next Sink
	opts DetectorOptions
	now  func() time.Time

	mu        sync.Mutex
	actors    map[string]*actorState
	honey     map[string]struct{}
	lastSweep time.Time
}

type actorState struct {
	times        []time.Time // reveals within the window, oldest first
	alerting     bool        // a rate alert was raised for the current burst
	blocked      bool
	blockedUntil time.Time // zero: until Unblock
}

// NewDetector returns a Detector forwarding every event to next.
func NewDetector(next Sink, opts DetectorOptions) *Detector {
	if opts.Window <= 0 {
		opts.Window = DefaultDetectorWindow
	}
	d := &Detector{
		next:   next,
		opts:   opts,
		now:    opts.Now,
		actors: make(map[string]*actorState),
		honey:  make(map[string]struct{}),
	}
	if d.now == nil {
		d.now = time.Now
	}
	for _, id := range opts.Honeytokens {
		d.honey[id] = struct{}{}
	}
	return d
}

// AddHoneytoken registers a honeytoken subject ID.
func (d *Detector) AddHoneytoken(subjectID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.honey[subjectID] = struct{}{}
}

// Allow reports whether actor may reveal now: false while it is blocked.
func (d *Detector) Allow(actor string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.actors[actor]
	return st == nil || !d.blockedLocked(st, d.now())
}

// Unblock lifts a block on actor and forgets its recent reveals.
func (d *Detector) Unblock(actor string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.actors, actor)
}

func (d *Detector) blockedLocked(st *actorState, now time.Time) bool {
	if st.blocked && !st.blockedUntil.IsZero() && !now.Before(st.blockedUntil) {
		st.blocked = false
		st.times = st.times[:0]
		st.alerting = false
	}
	return st.blocked
}

func (d *Detector) blockLocked(st *actorState, now time.Time) {
	st.blocked = true
	if d.opts.BlockFor > 0 {
		st.blockedUntil = now.Add(d.opts.BlockFor)
	}
}

// Record inspects e, raises the alerts it calls for, and forwards it to the
// next sink, returning that sink's error. A reveal by a blocked principal is
// forwarded as a failure and returns an error wrapping ErrBlocked.
func (d *Detector) Record(ctx context.Context, e Event) error {
	if !IsReveal(e.Action) {
		return d.next.Record(ctx, e)
	}
	now := d.now()
	var alerts []Alert
	d.mu.Lock()
	d.sweepLocked(now)
	st := d.actors[e.Actor]
	if st == nil {
		st = &actorState{}
		d.actors[e.Actor] = st
	}
	refuse := d.blockedLocked(st, now)
	if !refuse {
		if _, ok := d.honey[e.SubjectID]; ok && e.SubjectID != "" {
			if d.opts.BlockOnHoneytoken {
				d.blockLocked(st, now)
			}
			alerts = append(alerts, Alert{Kind: AlertHoneytoken, Actor: e.Actor, SubjectID: e.SubjectID,
				Window: d.opts.Window, Blocked: st.blocked, Time: now, Event: e})
		}
		if a, ok := d.countLocked(st, e, now); ok {
			alerts = append(alerts, a)
			refuse = d.opts.Block
		}
	}
	d.mu.Unlock()
	if d.opts.OnAlert != nil {
		for _, a := range alerts {
			d.opts.OnAlert(a)
		}
	}
	if refuse {
		e.Outcome = OutcomeFailure
		e.Error = "blocked"
		if err := d.next.Record(ctx, e); err != nil {
			return errors.Join(ErrBlocked, err)
		}
		return ErrBlocked
	}
	return d.next.Record(ctx, e)
}

// countLocked adds a reveal to st's sliding window and returns a rate alert
// when it crosses the threshold.
func (d *Detector) countLocked(st *actorState, e Event, now time.Time) (Alert, bool) {
	if d.opts.MaxReveals <= 0 {
		return Alert{}, false
	}
	cut := now.Add(-d.opts.Window)
	i := 0
	for i < len(st.times) && !st.times[i].After(cut) {
		i++
	}
	st.times = append(st.times[:0], st.times[i:]...)
	count := len(st.times) + 1
	if count <= d.opts.MaxReveals {
		st.times = append(st.times, now)
		st.alerting = false
		return Alert{}, false
	}
	// Over the threshold: keep the window at MaxReveals entries (the
	// newest), so memory stays bounded however long the burst lasts.
	st.times = append(st.times[1:], now)
	if st.alerting {
		return Alert{}, false
	}
	st.alerting = true
	if d.opts.Block {
		d.blockLocked(st, now)
	}
	return Alert{Kind: AlertRate, Actor: e.Actor, SubjectID: e.SubjectID, Count: count,
		Window: d.opts.Window, Blocked: st.blocked, Time: now, Event: e}, true
}

// sweepLocked forgets, once per window, the principals that are neither
// blocked nor active within the window.
func (d *Detector) sweepLocked(now time.Time) {
	if now.Sub(d.lastSweep) < d.opts.Window {
		return
	}
	d.lastSweep = now
	cut := now.Add(-d.opts.Window)
	for id, st := range d.actors {
		if d.blockedLocked(st, now) {
			continue
		}
		if n := len(st.times); n == 0 || !st.times[n-1].After(cut) {
			delete(d.actors, id)
		}
	}
}
