package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

func TestSlogSinkWritesEventGroupBypassingLevel(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	s := audit.NewSlogSink(l, audit.SlogOptions{})
	require.NoError(t, s.Record(context.Background(), testEvent(0)))
	var got struct {
		Time  time.Time
		Level string
		Msg   string
		Audit map[string]any
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, "INFO", got.Level)
	assert.Equal(t, "audit", got.Msg)
	assert.True(t, got.Time.Equal(t0))
	assert.Equal(t, "reveal", got.Audit["action"])
	assert.Equal(t, "cust-0", got.Audit["subject_id"])
	assert.Equal(t, float64(1000), got.Audit["key_id"])
}

func TestSlogSinkOptionsAndZeroTime(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	s := audit.NewSlogSink(l, audit.SlogOptions{Level: slog.LevelWarn, Message: "pii", Key: "evt"})
	require.NoError(t, s.Record(context.Background(), audit.Event{Action: audit.ActionErase}))
	assert.Contains(t, buf.String(), "level=WARN msg=pii evt.time=")
	assert.Contains(t, buf.String(), "evt.action=erase")
}

type failingHandler struct{ slog.Handler }

func (failingHandler) Handle(context.Context, slog.Record) error {
	return errors.New("log pipe closed")
}

func TestSlogSinkReturnsHandlerError(t *testing.T) {
	s := audit.NewSlogSink(slog.New(failingHandler{slog.DiscardHandler}), audit.SlogOptions{})
	assert.Error(t, s.Record(context.Background(), testEvent(0)))
}
