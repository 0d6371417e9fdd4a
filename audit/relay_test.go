package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

func TestRelayHoldsUntilConnectedThenForwards(t *testing.T) {
	ctx := context.Background()
	var r audit.Relay
	for i := range 3 {
		e := testEvent(i)
		e.Action = audit.ActionKeyCreate
		require.NoError(t, r.Record(ctx, e))
	}
	assert.Equal(t, 3, r.Held())
	sink := &memSink{}
	require.NoError(t, r.Connect(ctx, sink))
	assert.Zero(t, r.Held())
	require.NoError(t, r.Record(ctx, testEvent(5)))
	got := sink.all()
	require.Len(t, got, 4)
	for i := range 3 {
		assert.Equal(t, testEvent(i).RequestID, got[i].RequestID, "held events in order")
	}
	assert.Equal(t, audit.ActionReveal, got[3].Action, "later events, reveals too, forwarded")
	require.Error(t, r.Connect(ctx, sink), "connect twice")
}

func TestRelayRefusesRevealsBeforeConnect(t *testing.T) {
	var r audit.Relay
	e := testEvent(0) // a reveal
	require.True(t, audit.IsReveal(e.Action))
	require.ErrorIs(t, r.Record(context.Background(), e), audit.ErrClosed)
	assert.Zero(t, r.Held())
}

func TestRelayBounded(t *testing.T) {
	var r audit.Relay
	e := testEvent(0)
	e.Action = audit.ActionKeyRotate
	n := 0
	for ; n < 5000; n++ {
		if err := r.Record(context.Background(), e); err != nil {
			require.ErrorIs(t, err, audit.ErrBufferFull)
			break
		}
	}
	assert.Equal(t, 1024, n)
}

func TestRelayConnectFailureKeepsWhatWasNotTaken(t *testing.T) {
	ctx := context.Background()
	var r audit.Relay
	for i := range 3 {
		e := testEvent(i)
		e.Action = audit.ActionKeyCreate
		require.NoError(t, r.Record(ctx, e))
	}
	calls := 0
	failing := audit.SinkFunc(func(context.Context, audit.Event) error {
		calls++
		if calls == 2 {
			return errors.New("disk full")
		}
		return nil
	})
	require.Error(t, r.Connect(ctx, failing))
	assert.Equal(t, 2, r.Held(), "the first event was taken, the other two are kept")
	sink := &memSink{}
	require.NoError(t, r.Connect(ctx, sink))
	require.Len(t, sink.all(), 2)
	assert.Equal(t, testEvent(1).RequestID, sink.all()[0].RequestID)
}
