package audit

import "context"

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// WithActor returns a context that names the actor (a principal ID) for the
// events reported under it. Packages that report events without knowing the
// principal themselves — kms key operations run by an operator tool, say —
// read it with ActorFrom. It holds an identifier, never a secret.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// ActorFrom returns the actor set by WithActor, or "".
func ActorFrom(ctx context.Context) string {
	s, _ := ctx.Value(actorKey).(string)
	return s
}

// WithRequestID returns a context carrying the host application's request
// ID, copied into Event.RequestID by the packages that report events.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request ID set by WithRequestID, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// FromContext fills the event's Actor and RequestID from ctx where they are
// empty, and returns it.
func FromContext(ctx context.Context, e Event) Event {
	if e.Actor == "" {
		e.Actor = ActorFrom(ctx)
	}
	if e.RequestID == "" {
		e.RequestID = RequestIDFrom(ctx)
	}
	return e
}
