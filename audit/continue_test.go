package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// TestVerifySaysAPlainLogIsNotChained: a log of plain events (FileSink.Record
// without a Chain) is reported as not chained, not as tampered.
func TestVerifySaysAPlainLogIsNotChained(t *testing.T) {
	k := newTestKeys(t)
	var plain [][]byte
	for i := range 3 {
		l, err := testEvent(i).MarshalJSON()
		require.NoError(t, err)
		plain = append(plain, l)
	}
	_, err := audit.Verify(bytes.NewReader(join(plain)), k.MAC, k.Verifier, audit.VerifyOptions{})
	require.ErrorIs(t, err, audit.ErrNotChained)
	assert.NotErrorIs(t, err, audit.ErrTampered)
	assert.Contains(t, err.Error(), "not chained")
	assert.Contains(t, err.Error(), "3 lines")
	assert.NotContains(t, err.Error(), "tampered")
}

func TestVerifyNotChainedCountsLinesInWords(t *testing.T) {
	k := newTestKeys(t)
	l, err := testEvent(0).MarshalJSON()
	require.NoError(t, err)
	_, err = audit.Verify(bytes.NewReader(join([][]byte{l})), k.MAC, k.Verifier, audit.VerifyOptions{})
	require.ErrorIs(t, err, audit.ErrNotChained)
	assert.Contains(t, err.Error(), "its one line is a plain event with no MAC")
	assert.NotContains(t, err.Error(), "1 lines")
}

// TestVerifyPlainEventBeforeAChainIsTampering: a plain event put in front of
// a chained log is an insertion, not a sign that the log is unchained.
func TestVerifyPlainEventBeforeAChainIsTampering(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 5, audit.ChainOptions{})
	plain, err := testEvent(99).MarshalJSON()
	require.NoError(t, err)
	l := append([][]byte{plain, plain}, lines...)
	_, err = audit.Verify(bytes.NewReader(join(l)), k.MAC, k.Verifier, audit.VerifyOptions{})
	require.ErrorIs(t, err, audit.ErrTampered)
	assert.NotErrorIs(t, err, audit.ErrNotChained)
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, int64(1), ve.Line)
}

// TestContinueChainAcrossRuns writes a chained file log in three runs, each
// continuing the last, and verifies the whole log.
func TestContinueChainAcrossRuns(t *testing.T) {
	k := newTestKeys(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for run := range 3 {
		file, err := audit.NewFileSink(path, audit.FileOptions{})
		require.NoError(t, err)
		rc, err := audit.OpenLog(path)
		require.NoError(t, err)
		chain, rep, err := audit.ContinueChain(rc, file, k.MAC, k.Signer, k.Verifier, audit.ChainOptions{})
		require.NoError(t, rc.Close())
		require.NoError(t, err, "run %d", run)
		assert.Equal(t, uint64(4*run), rep.Records, "run %d continues after what the runs before wrote", run)
		assert.Equal(t, run, rep.Checkpoints)
		for i := range 4 {
			require.NoError(t, chain.Record(ctx, testEvent(i)))
		}
		require.NoError(t, chain.Close(ctx))
		require.NoError(t, file.Close())
	}
	rc, err := audit.OpenLog(path)
	require.NoError(t, err)
	defer rc.Close()
	rep, err := audit.Verify(rc, k.MAC, k.Verifier, audit.VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint64(12), rep.Records)
	assert.Equal(t, 3, rep.Checkpoints)
	assert.Zero(t, rep.Unsealed)
}

// TestContinueChainRefusesAndWritesNothing: a plain log, a tampered log and
// a log chained under other keys are refused, and the file is unchanged.
func TestContinueChainRefusesAndWritesNothing(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 6, audit.ChainOptions{})
	plain, err := testEvent(1).MarshalJSON()
	require.NoError(t, err)
	tampered := append([][]byte(nil), lines...)
	tampered[2] = bytes.Replace(tampered[2], []byte("user-"), []byte("USER-"), 1)
	for name, tc := range map[string]struct {
		data []byte
		keys testKeys
		want error
	}{
		"plain":      {join([][]byte{plain, plain}), k, audit.ErrNotChained},
		"tampered":   {join(tampered), k, audit.ErrTampered},
		"other keys": {join(lines), newTestKeys(t), audit.ErrTampered},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			require.NoError(t, os.WriteFile(path, tc.data, 0o600))
			file, err := audit.NewFileSink(path, audit.FileOptions{})
			require.NoError(t, err)
			defer file.Close()
			rc, err := audit.OpenLog(path)
			require.NoError(t, err)
			defer rc.Close()
			chain, _, err := audit.ContinueChain(rc, file, tc.keys.MAC, tc.keys.Signer, tc.keys.Verifier, audit.ChainOptions{})
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, chain)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.data, got, "nothing written")
		})
	}
}

func TestContinueChainArguments(t *testing.T) {
	k := newTestKeys(t)
	w := &memLines{}
	_, _, err := audit.ContinueChain(bytes.NewReader(nil), w, k.MAC, k.Signer, nil, audit.ChainOptions{})
	require.Error(t, err)
	_, _, err = audit.ContinueChain(bytes.NewReader(nil), w, k.MAC, k.Signer, k.Verifier, audit.ChainOptions{Head: audit.ChainHead{Seq: 3}})
	require.Error(t, err)
	c, rep, err := audit.ContinueChain(bytes.NewReader(nil), w, k.MAC, k.Signer, k.Verifier, audit.ChainOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.Records)
	require.NoError(t, c.Record(context.Background(), testEvent(0)))
	assert.Equal(t, uint64(1), c.Head().Seq)
	assert.False(t, errors.Is(err, audit.ErrNotChained))
}

func TestProbeLogTellsEmptyPlainAndChained(t *testing.T) {
	k := newTestKeys(t)
	plain, err := testEvent(1).MarshalJSON()
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		data  []byte
		kind  audit.LogKind
		lines int64
	}{
		"empty":   {nil, audit.LogEmpty, 0},
		"plain":   {join([][]byte{plain, plain, plain}), audit.LogPlain, 3},
		"chained": {join(writeChain(t, k, 4, audit.ChainOptions{})), audit.LogChained, 5},
	} {
		kind, lines, err := audit.ProbeLog(bytes.NewReader(tc.data))
		require.NoError(t, err, name)
		assert.Equal(t, tc.kind, kind, name)
		assert.Equal(t, tc.lines, lines, name)
	}
	_, _, err = audit.ProbeLog(bytes.NewReader([]byte("secret-value-not-json\n")))
	require.ErrorIs(t, err, audit.ErrCorrupt)
	assert.NotContains(t, err.Error(), "secret-value")
	assert.Equal(t, "chained", audit.LogChained.String())
}
