package audit_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// queryCases are the queries every Querier must answer alike, over the
// events testEvent(0..59), with the indexes of the expected events.
func queryCases() map[string]struct {
	q    audit.Query
	want []int
} {
	var (
		t1 = t0.Add(10 * time.Second)
		t2 = t0.Add(40 * time.Second)
	)
	between := func(pred func(i int) bool) []int {
		var out []int
		for i := range 60 {
			if pred(i) {
				out = append(out, i)
			}
		}
		return out
	}
	isReveal := func(i int) bool { return audit.IsReveal(testEvent(i).Action) }
	return map[string]struct {
		q    audit.Query
		want []int
	}{
		"everything": {audit.Query{}, between(func(int) bool { return true })},
		"who accessed subject cust-3 between T1 and T2": {
			audit.Query{SubjectID: "cust-3", Actions: audit.DataActions(), Since: t1, Until: t2},
			between(func(i int) bool { return i%11 == 3 && i >= 10 && i < 40 && i%5 != 4 }),
		},
		"what did user-2 reveal in that window": {
			audit.Query{Actor: "user-2", Actions: audit.RevealActions(), Since: t1, Until: t2},
			between(func(i int) bool { return i%7 == 2 && i >= 10 && i < 40 && isReveal(i) }),
		},
		"denials": {
			audit.Query{Decisions: []string{audit.DecisionDeny}},
			between(func(i int) bool { return i%3 == 2 }),
		},
		"key rotations": {
			audit.Query{Actions: []audit.Action{audit.ActionKeyRotate}, Outcome: audit.OutcomeSuccess, RecordType: "crm.Customer", Field: "Email"},
			between(func(i int) bool { return i%5 == 4 }),
		},
		"limit":    {audit.Query{Actor: "user-1", Limit: 3}, []int{1, 8, 15}},
		"no match": {audit.Query{Outcome: audit.OutcomeFailure}, nil},
	}
}

func checkQueries(t *testing.T, run func(audit.Query) ([]audit.Event, error)) {
	t.Helper()
	for name, tc := range queryCases() {
		t.Run(name, func(t *testing.T) {
			got, err := run(tc.q)
			require.NoError(t, err)
			var want []audit.Event
			for _, i := range tc.want {
				want = append(want, testEvent(i))
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestQueryFilesOverChainedAndPlainLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{MaxSize: 8 << 10, Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	k := newTestKeys(t)
	c, err := audit.NewChain(s, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 9})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 60 {
		if i%2 == 0 {
			require.NoError(t, c.Record(ctx, testEvent(i)))
		} else {
			require.NoError(t, s.Record(ctx, testEvent(i)))
		}
	}
	require.NoError(t, c.Close(ctx))
	defer s.Close()
	checkQueries(t, func(q audit.Query) ([]audit.Event, error) { return s.Query(ctx, q) })
}

func TestQueryReaderReportsCorruptLinesAndGoesOn(t *testing.T) {
	a, err := testEvent(0).MarshalJSON()
	require.NoError(t, err)
	b, err := testEvent(1).MarshalJSON()
	require.NoError(t, err)
	in := join([][]byte{a, []byte(`{"v":1,"time":`), b})
	var got []audit.Event
	var errs []error
	for e, err := range audit.QueryReader(bytes.NewReader(in), audit.Query{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, e)
	}
	assert.Equal(t, []audit.Event{testEvent(0), testEvent(1)}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], audit.ErrCorrupt)
	assert.Contains(t, errs[0].Error(), "line 2")

	// The consumer may stop at the error.
	n := 0
	for _, err := range audit.QueryReader(bytes.NewReader(in), audit.Query{}) {
		n++
		if err != nil {
			break
		}
	}
	assert.Equal(t, 2, n)
}

func TestQueryFilesStopsAtCorruptLineAndOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Record(ctx, testEvent(0)))
	require.NoError(t, s.WriteLine(ctx, []byte(`not json`)))
	require.NoError(t, s.Close())
	got, err := audit.QueryFiles(ctx, path, audit.Query{})
	assert.ErrorIs(t, err, audit.ErrCorrupt)
	assert.Len(t, got, 1)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = audit.QueryFiles(cctx, path, audit.Query{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestQueryMatchTimeBounds(t *testing.T) {
	e := testEvent(0)
	assert.True(t, audit.Query{Since: e.Time}.Match(e), "Since is inclusive")
	assert.False(t, audit.Query{Until: e.Time}.Match(e), "Until is exclusive")
	assert.True(t, audit.Query{Until: e.Time.Add(time.Nanosecond)}.Match(e))
}

// fieldListEvents are events about one field or several (comma-separated,
// as package pii reports a record), for the field-list queries every
// Querier must answer alike.
func fieldListEvents() []audit.Event {
	fields := []string{"Email", "Name,Email,NationalID", "NationalID", "Contacts[0].Email,Contacts[1].Email", "national_id,email"}
	out := make([]audit.Event, len(fields))
	for i, f := range fields {
		e := testEvent(i)
		e.Field = f
		out[i] = e
	}
	return out
}

func checkFieldListQueries(t *testing.T, run func(audit.Query) ([]audit.Event, error)) {
	t.Helper()
	events := fieldListEvents()
	for field, want := range map[string][]int{
		"Email":                 {0, 1},
		"NationalID":            {1, 2},
		"Contacts[1].Email":     {3},
		"Name,Email":            nil, // a comma: the whole field only
		"Name,Email,NationalID": {1},
		"National":              nil, // no prefix match
		"Email,NationalID":      nil,
		"national_id":           {4},
		"nationalXid":           nil, // "_" is no wildcard
		"":                      {0, 1, 2, 3, 4},
	} {
		t.Run("field "+field, func(t *testing.T) {
			got, err := run(audit.Query{Field: field})
			require.NoError(t, err)
			var exp []audit.Event
			for _, i := range want {
				exp = append(exp, events[i])
			}
			assert.Equal(t, exp, got)
		})
	}
}

func TestQueryMatchesOneFieldOfAList(t *testing.T) {
	checkFieldListQueries(t, func(q audit.Query) ([]audit.Event, error) {
		var out []audit.Event
		for _, e := range fieldListEvents() {
			if q.Match(e) {
				out = append(out, e)
			}
		}
		return out, nil
	})
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, e := range fieldListEvents() {
		require.NoError(t, s.Record(ctx, e))
	}
	checkFieldListQueries(t, func(q audit.Query) ([]audit.Event, error) { return s.Query(ctx, q) })
}
