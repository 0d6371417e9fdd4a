package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
)

// Values a host application handles while it reports events. None may show
// up in anything this package writes or returns.
var piiValues = []string{"alice@example.com", "4111111111111111", "078-05-1120", "+33 6 12 34 56 78"}

func TestErrorsNeverQuoteTheirInput(t *testing.T) {
	ctx := context.Background()
	k := newTestKeys(t)
	db := openSQLite(t)
	sqlSink, err := audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{})
	require.NoError(t, err)
	defer sqlSink.Close()

	for _, v := range piiValues {
		for _, line := range []string{
			v,
			`{"v":1,"time":"` + v + `"}`,
			`{"v":1,"time":"2024-01-01T00:00:00Z","` + v + `":"x"}`,
			`{"v":1,"time":"2024-01-01T00:00:00Z","actor":"` + v + `",}`,
			`{"v":1,"checkpoint":{"seq":1,"mac":"` + v + `","time":"x"},"sig":"AAAA"}`,
			`{"v":1,"seq":1,"prev":"","event":{"v":1,"time":"2024-01-01T00:00:00Z","actor":"` + v + `"},"mac":"AAAA"}`,
			`{"v":1,"seq":1,"prev":"` + v + `","event":{},"mac":"` + v + `"}`,
		} {
			var errs []error
			var e audit.Event
			errs = append(errs, e.UnmarshalJSON([]byte(line)))
			_, err := audit.ParseCheckpoint([]byte(line), k.Verifier)
			errs = append(errs, err)
			_, err = audit.Verify(strings.NewReader(line+"\n"), k.MAC, k.Verifier, audit.VerifyOptions{})
			errs = append(errs, err)
			_, _, err = audit.LatestCheckpoint(strings.NewReader(line+"\n"), k.Verifier)
			errs = append(errs, err)
			for _, err := range audit.QueryReader(strings.NewReader(line+"\n"), audit.Query{}) {
				errs = append(errs, err)
			}
			errs = append(errs, sqlSink.WriteLine(ctx, []byte(line)))
			for _, err := range errs {
				if err == nil {
					continue
				}
				assert.NotContains(t, err.Error(), v, "line %q", line)
				assert.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
			}
		}
	}
}

func TestNothingWrittenCarriesValuesTheHostHandled(t *testing.T) {
	ctx := context.Background()
	k := newTestKeys(t)
	dir := t.TempDir()
	file, err := audit.NewFileSink(filepath.Join(dir, "audit.jsonl"), audit.FileOptions{MaxSize: 2048, Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	witness, err := audit.NewFileSink(filepath.Join(dir, "witness.jsonl"), audit.FileOptions{})
	require.NoError(t, err)
	chain, err := audit.NewChain(file, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 5, Witness: witness})
	require.NoError(t, err)
	async := audit.NewAsyncSink(chain, audit.AsyncOptions{})
	var alerts []string
	det := audit.NewDetector(audit.SplitReveals(chain, async), audit.DetectorOptions{
		MaxReveals: 3, Block: true, Honeytokens: []string{"cust-5"},
		OnAlert: func(a audit.Alert) { alerts = append(alerts, fmt.Sprintf("%+v", a)) },
	})

	// A host revealing the values above reports one event per reveal,
	// naming the field and the subject, never the value.
	var errs []error
	for i := range len(piiValues) * 3 {
		errs = append(errs, det.Record(ctx, testEvent(i)))
	}
	require.NoError(t, async.Close(ctx))
	require.NoError(t, chain.Close(ctx))
	require.NoError(t, file.Close())
	require.NoError(t, witness.Close())
	require.NotEmpty(t, alerts)

	var written bytes.Buffer
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		written.Write(data)
	}
	require.NotZero(t, written.Len())
	for _, v := range piiValues {
		assert.NotContains(t, written.String(), v)
		assert.NotContains(t, strings.Join(alerts, "\n"), v)
		for _, err := range errs {
			if err != nil {
				assert.NotContains(t, err.Error(), v)
			}
		}
	}
}
