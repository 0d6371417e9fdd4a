package detect

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler is a slog.Handler that redacts log records before they reach
// another handler: the message, every string attribute, the strings in
// groups at any depth, and values that format as text (errors,
// fmt.Stringers, any other value) when their text holds personal data,
// which are then logged as their redacted text. Attribute keys are not
// redacted: they are written by code, not by customers. LogValuers are
// resolved first, so a value that already redacts itself (pii's types)
// costs only the scan.
type Handler struct {
	next slog.Handler
	r    *Redactor
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler that redacts with r (the default masking
// Redactor when nil) and passes records on to next.
func NewHandler(next slog.Handler, r *Redactor) *Handler {
	if r == nil {
		r = defaultRedactor()
	}
	return &Handler{next: next, r: r}
}

// Enabled reports what the next handler reports.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle redacts r and passes it on. A record with no personal data is
// passed on as it is, without a copy.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg := h.r.String(r.Message)
	changed := len(msg) != len(r.Message) || msg != r.Message
	var small [8]slog.Attr
	attrs := small[:0]
	r.Attrs(func(a slog.Attr) bool {
		ra, c := h.attr(a)
		attrs = append(attrs, ra)
		changed = changed || c
		return true
	})
	if !changed {
		return h.next.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	nr.AddAttrs(attrs...)
	return h.next.Handle(ctx, nr)
}

// WithAttrs redacts attrs and returns a Handler over next.WithAttrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i], _ = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(out), r: h.r}
}

// WithGroup returns a Handler over next.WithGroup.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), r: h.r}
}

// attr redacts a and reports whether it changed.
func (h *Handler) attr(a slog.Attr) (slog.Attr, bool) {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if rs := h.r.String(s); rs != s {
			return slog.String(a.Key, rs), true
		}
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		changed := false
		for i, ga := range g {
			var c bool
			out[i], c = h.attr(ga)
			changed = changed || c
		}
		if changed {
			return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}, true
		}
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if rs := h.r.String(s); rs != s {
			return slog.String(a.Key, rs), true
		}
	}
	if v.Kind() != a.Value.Kind() {
		return slog.Attr{Key: a.Key, Value: v}, true // resolved once, not again by next
	}
	return a, false
}
