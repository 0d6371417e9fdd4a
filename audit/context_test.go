package audit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/audit"
)

func TestContextCarriesActorAndRequestID(t *testing.T) {
	ctx := audit.WithRequestID(audit.WithActor(context.Background(), "ops-alice"), "req-7")
	assert.Equal(t, "ops-alice", audit.ActorFrom(ctx))
	assert.Equal(t, "req-7", audit.RequestIDFrom(ctx))
	e := audit.FromContext(ctx, audit.Event{Action: audit.ActionKeyRotate})
	assert.Equal(t, "ops-alice", e.Actor)
	assert.Equal(t, "req-7", e.RequestID)
	e = audit.FromContext(ctx, audit.Event{Actor: "svc"})
	assert.Equal(t, "svc", e.Actor, "an actor already set is kept")
	assert.Empty(t, audit.ActorFrom(context.Background()))
}
