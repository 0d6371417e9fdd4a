package audit_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenEvents are the events pinned by testdata/events_v1.jsonl, one per
// line, in order.
func goldenEvents() []audit.Event {
	return []audit.Event{
		{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeSuccess, KeyName: "fields", KeyID: 4294967295},
		{
			Time: time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC), Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess,
			Actor: "u-42", Purpose: "support", RecordType: "crm.Customer", Field: "Email", Class: "email",
			SubjectID: "c-1001", Decision: audit.DecisionAllow, Reason: "rule:own-accounts", KeyName: "fields",
			KeyID: 123456, RequestID: "req-9", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		},
		{
			Time: time.Date(2024, 5, 1, 12, 0, 1, 500000000, time.UTC), Action: audit.ActionDetokenize, Outcome: audit.OutcomeFailure,
			Actor: "svc \"billing\"\\batch", Field: "Cards[0].PAN", Decision: audit.DecisionDeny, Reason: "line\nbreak\ttab\x01ctl",
			Error: "permission_denied",
		},
		{Time: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), Action: "app.custom", Actor: "Zoë 山田 🙂", SubjectID: "ü</script>&"},
		{Time: time.Time{}, Action: ""},
	}
}

func TestEventGoldenV1(t *testing.T) {
	path := filepath.Join("testdata", "events_v1.jsonl")
	events := goldenEvents()
	var lines []string
	for _, e := range events {
		b, err := e.MarshalJSON()
		require.NoError(t, err)
		lines = append(lines, string(b))
		// encoding/json escapes <, > and & in what MarshalJSON returns: the
		// bytes may differ, the event read back may not.
		viaJSON, err := json.Marshal(e)
		require.NoError(t, err)
		var back audit.Event
		require.NoError(t, json.Unmarshal(viaJSON, &back))
		assert.Equal(t, e, back)
	}
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	golden := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, golden, len(events))
	for i, line := range golden {
		assert.Equal(t, line, lines[i], "encoding of event %d changed", i)
		var got audit.Event
		require.NoError(t, json.Unmarshal([]byte(line), &got), "line %d", i+1)
		assert.Equal(t, events[i], got, "decoding of line %d", i+1)
	}
}

func TestEventJSONRoundTripConvertsTimeToUTC(t *testing.T) {
	loc := time.FixedZone("X", 5*3600+1800)
	e := audit.Event{Time: time.Date(2024, 1, 2, 3, 4, 5, 6, loc), Action: audit.ActionSearch, KeyID: 7}
	b, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"v":1,"time":"2024-01-01T21:34:05.000000006Z","action":"search","key_id":7}`, string(b))
	var got audit.Event
	require.NoError(t, got.UnmarshalJSON(b))
	assert.True(t, got.Time.Equal(e.Time))
	assert.Equal(t, time.UTC, got.Time.Location())
}

func TestEventMarshalInvalidUTF8BecomesReplacementChar(t *testing.T) {
	e := audit.Event{Time: t0, Actor: "a\xffb"}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	var got audit.Event
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "a\ufffdb", got.Actor)
}

func TestEventMarshalRejectsTimeOutOfRange(t *testing.T) {
	_, err := audit.Event{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}.MarshalJSON()
	assert.ErrorIs(t, err, audit.ErrInvalidEvent)
}

func TestEventUnmarshalIsStrict(t *testing.T) {
	for name, in := range map[string]string{
		"no version":        `{"time":"2024-01-01T00:00:00Z"}`,
		"version 2":         `{"v":2,"time":"2024-01-01T00:00:00Z"}`,
		"no time":           `{"v":1,"action":"reveal"}`,
		"unknown member":    `{"v":1,"time":"2024-01-01T00:00:00Z","value":"x"}`,
		"repeated member":   `{"v":1,"time":"2024-01-01T00:00:00Z","actor":"a","actor":"b"}`,
		"case folded name":  `{"v":1,"time":"2024-01-01T00:00:00Z","Actor":"a"}`,
		"bad time":          `{"v":1,"time":"yesterday"}`,
		"negative key id":   `{"v":1,"time":"2024-01-01T00:00:00Z","key_id":-1}`,
		"key id too large":  `{"v":1,"time":"2024-01-01T00:00:00Z","key_id":4294967296}`,
		"float key id":      `{"v":1,"time":"2024-01-01T00:00:00Z","key_id":1.0}`,
		"null string":       `{"v":1,"time":"2024-01-01T00:00:00Z","actor":null}`,
		"trailing data":     `{"v":1,"time":"2024-01-01T00:00:00Z"} x`,
		"not an object":     `["v",1]`,
		"invalid utf8":      "{\"v\":1,\"time\":\"2024-01-01T00:00:00Z\",\"actor\":\"\xff\"}",
		"unterminated":      `{"v":1,"time":"2024-01-01T00:00:00Z"`,
		"leading zero":      `{"v":01,"time":"2024-01-01T00:00:00Z"}`,
		"escaped key":       `{"\u0076":1,"time":"2024-01-01T00:00:00Z"}`,
		"control character": "{\"v\":1,\"time\":\"2024-01-01T00:00:00Z\",\"actor\":\"a\x01\"}",
	} {
		t.Run(name, func(t *testing.T) {
			var e audit.Event
			assert.ErrorIs(t, e.UnmarshalJSON([]byte(in)), audit.ErrCorrupt)
		})
	}
}

func TestEventUnmarshalAcceptsWhitespaceAndEscapes(t *testing.T) {
	in := " {\n \"v\" : 1 , \"time\":\"2024-01-01T00:00:00+02:00\", \"actor\":\"\\u00e9\\ud83d\\ude42\\/\\b\\f\\r\", \"reason\":\"\\ud800x\" } "
	var e audit.Event
	require.NoError(t, e.UnmarshalJSON([]byte(in)))
	assert.Equal(t, "é🙂/\b\f\r", e.Actor)
	assert.Equal(t, "\ufffdx", e.Reason)
	assert.Equal(t, time.Date(2023, 12, 31, 22, 0, 0, 0, time.UTC), e.Time)
}

func TestEventLogValueListsNonEmptyMembers(t *testing.T) {
	v := testEvent(1).LogValue()
	got := map[string]string{}
	for _, a := range v.Group() {
		got[a.Key] = a.Value.String()
	}
	assert.Equal(t, "search", got["action"])
	assert.Equal(t, "1001", got["key_id"])
	assert.NotContains(t, got, "error")
}

func TestIsReveal(t *testing.T) {
	for _, a := range audit.RevealActions() {
		assert.True(t, audit.IsReveal(a), a)
	}
	for _, a := range []audit.Action{audit.ActionSearch, audit.ActionTokenize, audit.ActionKeyRotate, audit.ActionErase} {
		assert.False(t, audit.IsReveal(a), a)
	}
}
