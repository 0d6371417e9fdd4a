package audit

import (
	"context"
	"log/slog"
	"time"
)

// SlogOptions are the optional settings of a SlogSink. The zero value is
// usable.
type SlogOptions struct {
	// Level is the level of the log records (default slog.LevelInfo).
	Level slog.Level
	// Message is the message of the log records (default "audit").
	Message string
	// Key is the key of the group holding the event (default "audit").
	Key string
}

// SlogSink writes events as log/slog records: one record per event, with the
// event as a group of attributes named as in the JSON encoding. It suits
// a host that ships its logs to a central store; it is not tamper-evident.
//
// It calls the handler directly, bypassing the logger's level filter (an
// audit event is never filtered out by a log level), and returns the
// handler's error, so a failing handler fails the Record.
type SlogSink struct {
	h    slog.Handler
	opts SlogOptions
}

// NewSlogSink returns a SlogSink writing to l's handler.
func NewSlogSink(l *slog.Logger, opts SlogOptions) *SlogSink {
	if opts.Message == "" {
		opts.Message = "audit"
	}
	if opts.Key == "" {
		opts.Key = "audit"
	}
	return &SlogSink{h: l.Handler(), opts: opts}
}

// Record writes e as one log record whose time is the event's time.
func (s *SlogSink) Record(ctx context.Context, e Event) error {
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	r := slog.NewRecord(t, s.opts.Level, s.opts.Message, 0)
	r.AddAttrs(slog.Attr{Key: s.opts.Key, Value: e.LogValue()})
	return s.h.Handle(ctx, r)
}
