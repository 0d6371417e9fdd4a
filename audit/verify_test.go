package audit_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

func verify(k testKeys, lines [][]byte, opts audit.VerifyOptions) (audit.VerifyReport, error) {
	return audit.Verify(bytes.NewReader(join(lines)), k.MAC, k.Verifier, opts)
}

// requireVerifyError checks that err is a *VerifyError at the given line and
// seq wrapping want, and returns it.
func requireVerifyError(t *testing.T, err error, want error, line int64, seq uint64) *audit.VerifyError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, line, ve.Line, "line")
	assert.Equal(t, seq, ve.Seq, "seq")
	return ve
}

// lineOf returns the 0-based index of the record with sequence number seq.
func lineOf(t *testing.T, lines [][]byte, seq int) int {
	t.Helper()
	prefix := []byte(`{"v":1,"seq":` + strconv.Itoa(seq) + `,`)
	i := slices.IndexFunc(lines, func(l []byte) bool { return bytes.HasPrefix(l, prefix) })
	require.GreaterOrEqual(t, i, 0)
	return i
}

func TestVerifyAcceptsIntactChain(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 25, audit.ChainOptions{CheckpointEvery: 10})
	require.Len(t, lines, 25+3) // checkpoints after 10, 20 and on Close at 25
	rep, err := verify(k, lines, audit.VerifyOptions{CheckpointEvery: 10})
	require.NoError(t, err)
	assert.Equal(t, uint64(25), rep.Records)
	assert.Equal(t, 3, rep.Checkpoints)
	assert.Equal(t, int64(28), rep.Lines)
	assert.Equal(t, uint64(25), rep.Head.Seq)
	assert.Equal(t, uint64(25), rep.LastCheckpoint.Seq)
	assert.Equal(t, rep.Head.MAC, rep.LastCheckpoint.MAC)
	assert.Zero(t, rep.Unsealed)
}

func TestVerifyAcceptsEmptyLog(t *testing.T) {
	k := newTestKeys(t)
	rep, err := verify(k, nil, audit.VerifyOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.Records)
}

func TestVerifyDetectsModifiedRecord(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 20, audit.ChainOptions{})
	i := lineOf(t, lines, 5)
	lines[i] = bytes.Replace(lines[i], []byte(`"actor":"user-4"`), []byte(`"actor":"user-5"`), 1)
	rep, err := verify(k, lines, audit.VerifyOptions{})
	ve := requireVerifyError(t, err, audit.ErrTampered, int64(i+1), 5)
	assert.Contains(t, ve.Reason, "modified")
	assert.Equal(t, uint64(4), rep.Records, "the report covers the verified prefix")
}

func TestVerifyDetectsModifiedRecordThatNoLongerParses(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 8, audit.ChainOptions{})
	i := lineOf(t, lines, 3)
	lines[i] = bytes.Replace(lines[i], []byte(`"event":{`), []byte(`"event":[`), 1)
	_, err := verify(k, lines, audit.VerifyOptions{})
	requireVerifyError(t, err, audit.ErrTampered, int64(i+1), 3)
}

func TestVerifyDetectsDeletedRecord(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 20, audit.ChainOptions{})
	i := lineOf(t, lines, 5)
	lines = slices.Delete(lines, i, i+1)
	_, err := verify(k, lines, audit.VerifyOptions{})
	ve := requireVerifyError(t, err, audit.ErrTampered, int64(i+1), 6)
	assert.Contains(t, ve.Reason, "deleted")
}

func TestVerifyDetectsInsertedRecord(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 20, audit.ChainOptions{})
	other := writeChain(t, newTestKeys(t), 20, audit.ChainOptions{})

	t.Run("duplicate of an earlier record", func(t *testing.T) {
		l := slices.Clone(lines)
		i := lineOf(t, l, 6)
		l = slices.Insert(l, i, l[lineOf(t, l, 3)])
		ve := requireVerifyErrorFor(t, k, l, int64(i+1), 3)
		assert.Contains(t, ve.Reason, "duplicated")
	})
	t.Run("record forged with another key", func(t *testing.T) {
		l := slices.Clone(lines)
		i := lineOf(t, l, 6)
		l = slices.Insert(l, i, other[lineOf(t, other, 6)])
		ve := requireVerifyErrorFor(t, k, l, int64(i+1), 6)
		assert.Contains(t, ve.Reason, "link")
	})
	t.Run("unchained event", func(t *testing.T) {
		l := slices.Clone(lines)
		i := lineOf(t, l, 6)
		plain, err := testEvent(99).MarshalJSON()
		require.NoError(t, err)
		l = slices.Insert(l, i, plain)
		ve := requireVerifyErrorFor(t, k, l, int64(i+1), 6)
		assert.Contains(t, ve.Reason, "unchained")
	})
}

func requireVerifyErrorFor(t *testing.T, k testKeys, lines [][]byte, line int64, seq uint64) *audit.VerifyError {
	t.Helper()
	_, err := verify(k, lines, audit.VerifyOptions{})
	return requireVerifyError(t, err, audit.ErrTampered, line, seq)
}

func TestVerifyDetectsReorderedRecords(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 20, audit.ChainOptions{})
	i, j := lineOf(t, lines, 7), lineOf(t, lines, 8)
	lines[i], lines[j] = lines[j], lines[i]
	_, err := verify(k, lines, audit.VerifyOptions{})
	ve := requireVerifyError(t, err, audit.ErrTampered, int64(i+1), 8)
	assert.Contains(t, ve.Reason, "reordered")
}

func TestVerifyDetectsTruncationBeforeTrustedCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	witness := &memLines{}
	lines := writeChain(t, k, 25, audit.ChainOptions{CheckpointEvery: 10, Witness: witness})
	require.Len(t, witness.lines, 3)
	trusted, ok, err := audit.LatestCheckpoint(bytes.NewReader(witness.bytes()), k.Verifier)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(25), trusted.Seq)

	cut := lines[:lineOf(t, lines, 17)+1] // records 18..25 and checkpoints 20 and 25 gone

	// Without the witness the cut is invisible, but the report shows the
	// tail after the last checkpoint.
	rep, err := verify(k, cut, audit.VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint64(10), rep.LastCheckpoint.Seq)
	assert.Equal(t, uint64(7), rep.Unsealed)

	_, err = verify(k, cut, audit.VerifyOptions{Trusted: &trusted})
	ve := requireVerifyError(t, err, audit.ErrTruncated, int64(len(cut)+1), 25)
	assert.ErrorIs(t, err, audit.ErrTampered)
	assert.Contains(t, ve.Reason, "ends at seq 17")
}

func TestVerifyToleratesLossAfterTrustedCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	w := &memLines{}
	c, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 10})
	require.NoError(t, err)
	for i := range 15 {
		require.NoError(t, c.Record(context.Background(), testEvent(i)))
	}
	trusted, ok := c.LastCheckpoint()
	require.True(t, ok)
	cut := w.lines[:lineOf(t, w.lines, 12)+1]
	rep, err := verify(k, cut, audit.VerifyOptions{Trusted: &trusted})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rep.Unsealed)
}

func TestVerifyDetectsRecordDifferentFromTrustedCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 12, audit.ChainOptions{CheckpointEvery: 10})
	_, cp := parseCheckpointLine(t, k, lines[lineOf(t, lines, 10)+1])
	// Same keys, other events: a rewritten history.
	w := &memLines{}
	c, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{})
	require.NoError(t, err)
	for i := range 12 {
		require.NoError(t, c.Record(context.Background(), testEvent(i+100)))
	}
	_, err = verify(k, w.lines, audit.VerifyOptions{Trusted: &cp})
	ve := requireVerifyError(t, err, audit.ErrTampered, 10, 10)
	assert.Contains(t, ve.Reason, "trusted checkpoint")
}

func parseCheckpointLine(t *testing.T, k testKeys, line []byte) ([]byte, audit.Checkpoint) {
	t.Helper()
	cp, err := audit.ParseCheckpoint(line, k.Verifier)
	require.NoError(t, err)
	return line, cp
}

func TestVerifyDetectsDeletedCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 25, audit.ChainOptions{CheckpointEvery: 10})
	i := lineOf(t, lines, 10) + 1
	lines = slices.Delete(lines, i, i+1)
	_, err := verify(k, lines, audit.VerifyOptions{})
	require.NoError(t, err, "without CheckpointEvery a missing checkpoint is not an error")
	_, err = verify(k, lines, audit.VerifyOptions{CheckpointEvery: 10})
	ve := requireVerifyError(t, err, audit.ErrTampered, int64(i+1), 11)
	assert.Contains(t, ve.Reason, "checkpoint for seq 10 missing")
}

func TestVerifyDetectsForgedOrMovedCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 25, audit.ChainOptions{CheckpointEvery: 10})
	cp10 := lineOf(t, lines, 10) + 1

	t.Run("signed with another key", func(t *testing.T) {
		other := writeChain(t, newTestKeys(t), 25, audit.ChainOptions{CheckpointEvery: 10})
		l := slices.Clone(lines)
		l[cp10] = other[cp10]
		ve := requireVerifyErrorFor(t, k, l, int64(cp10+1), 10)
		assert.Contains(t, ve.Reason, "signature")
	})
	t.Run("moved", func(t *testing.T) {
		l := slices.Clone(lines)
		cp := l[cp10]
		l = slices.Delete(l, cp10, cp10+1)
		at := lineOf(t, l, 15) + 1
		l = slices.Insert(l, at, cp)
		ve := requireVerifyErrorFor(t, k, l, int64(at+1), 10)
		assert.Contains(t, ve.Reason, "does not match")
	})
	t.Run("signature bytes changed", func(t *testing.T) {
		l := slices.Clone(lines)
		l[cp10] = bytes.Replace(l[cp10], []byte(`"sig":"`), []byte(`"sig":"AAAA`), 1)
		requireVerifyErrorFor(t, k, l, int64(cp10+1), 10)
	})
}

func TestVerifyReportsTornLastLineAsCorrupt(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 5, audit.ChainOptions{})
	data := join(lines)
	data = append(data, lines[2][:40]...) // a crash in the middle of a write
	_, err := audit.Verify(bytes.NewReader(data), k.MAC, k.Verifier, audit.VerifyOptions{})
	requireVerifyError(t, err, audit.ErrCorrupt, int64(len(lines)+1), 6)
	assert.NotErrorIs(t, err, audit.ErrTampered)
}

func TestVerifyReportsOverlongLineAsCorrupt(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 3, audit.ChainOptions{})
	data := append(join(lines), bytes.Repeat([]byte("x"), audit.MaxLineSize+1)...)
	_, err := audit.Verify(bytes.NewReader(data), k.MAC, k.Verifier, audit.VerifyOptions{})
	requireVerifyError(t, err, audit.ErrCorrupt, int64(len(lines)+1), 4)
}

func TestVerifyReturnsReadErrors(t *testing.T) {
	k := newTestKeys(t)
	boom := errors.New("disk on fire")
	_, err := audit.Verify(errReader{boom}, k.MAC, k.Verifier, audit.VerifyOptions{})
	assert.ErrorIs(t, err, boom)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestVerifyFromStartCheckpoint(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 25, audit.ChainOptions{CheckpointEvery: 10})
	cpLine := lineOf(t, lines, 10) + 1
	_, start := parseCheckpointLine(t, k, lines[cpLine])
	for name, tail := range map[string][][]byte{
		"after the checkpoint line": lines[cpLine+1:],
		"from the checkpoint line":  lines[cpLine:],
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := verify(k, tail, audit.VerifyOptions{Start: &start})
			require.NoError(t, err)
			assert.Equal(t, uint64(15), rep.Records)
			_, err = verify(k, tail, audit.VerifyOptions{})
			assert.ErrorIs(t, err, audit.ErrTampered, "a log missing its head fails without Start")
		})
	}
	forged := start
	forged.Seq = 11
	_, err := verify(k, lines[cpLine+1:], audit.VerifyOptions{Start: &forged})
	assert.ErrorIs(t, err, audit.ErrTampered)
	_, err = verify(k, lines, audit.VerifyOptions{Trusted: &forged})
	assert.ErrorIs(t, err, audit.ErrTampered)
}

func TestVerifyVisitSeesVerifiedEventsInOrder(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 30, audit.ChainOptions{CheckpointEvery: 7})
	var seqs []uint64
	var got []audit.Event
	_, err := verify(k, lines, audit.VerifyOptions{Visit: func(seq uint64, e audit.Event) {
		seqs = append(seqs, seq)
		got = append(got, e)
	}})
	require.NoError(t, err)
	require.Len(t, got, 30)
	for i, e := range got {
		assert.Equal(t, uint64(i+1), seqs[i])
		assert.Equal(t, testEvent(i), e)
	}
}

func TestVerifyErrorsQuoteNoContent(t *testing.T) {
	k := newTestKeys(t)
	secret := "4111111111111111"
	lines := writeChain(t, k, 5, audit.ChainOptions{})
	for _, bad := range [][]byte{
		[]byte(`{"v":1,"seq":3,"prev":"","event":{"v":1,"time":"x","actor":"` + secret + `"},"mac":"AAAA"}`),
		[]byte(`{"v":1,"actor":"` + secret + `"}`),
		[]byte(secret),
		[]byte(`{"v":1,"time":"2024-01-01T00:00:00Z","` + secret + `":1}`),
	} {
		l := slices.Insert(slices.Clone(lines), 2, bad)
		_, err := verify(k, l, audit.VerifyOptions{})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
		assert.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
	}
}
