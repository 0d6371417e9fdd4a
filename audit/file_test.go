package audit_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

func TestFileSinkWritesJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, s.Record(ctx, testEvent(i)))
	}
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	assert.ErrorIs(t, s.Record(ctx, testEvent(0)), audit.ErrClosed)
	assert.ErrorIs(t, s.Flush(ctx), audit.ErrClosed)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := splitLines(data)
	require.Len(t, lines, 3)
	for i, l := range lines {
		want, err := testEvent(i).MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, string(want), string(l))
	}
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, path, s.Path())
}

func TestFileSinkRotatesBySizeWithPredictableNames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	k := newTestKeys(t)
	s, err := audit.NewFileSink(path, audit.FileOptions{MaxSize: 4 << 10, Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	c, err := audit.NewChain(s, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 25})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 100 {
		require.NoError(t, c.Record(ctx, testEvent(i)))
	}
	require.NoError(t, c.Flush(ctx))
	require.NoError(t, c.Close(ctx))
	require.NoError(t, s.Close())

	files, err := audit.LogFiles(path)
	require.NoError(t, err)
	require.Greater(t, len(files), 3)
	for i, f := range files[:len(files)-1] {
		assert.Equal(t, audit.RotatedName(path, i+1), f)
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), int64(4<<10))
	}
	assert.Equal(t, path, files[len(files)-1])
	assert.Equal(t, filepath.Join(dir, "audit.000001.jsonl"), audit.RotatedName(path, 1))

	rc, err := audit.OpenLog(path)
	require.NoError(t, err)
	defer rc.Close()
	rep, err := audit.Verify(rc, k.MAC, k.Verifier, audit.VerifyOptions{CheckpointEvery: 25})
	require.NoError(t, err, "the chain runs across rotated files")
	assert.Equal(t, uint64(100), rep.Records)

	// Reopening continues the numbering.
	s2, err := audit.NewFileSink(path, audit.FileOptions{MaxSize: 1})
	require.NoError(t, err)
	require.NoError(t, s2.Record(ctx, testEvent(0)))
	require.NoError(t, s2.Record(ctx, testEvent(1)))
	require.NoError(t, s2.Close())
	_, err = os.Stat(audit.RotatedName(path, len(files)))
	require.NoError(t, err)
}

func TestFileSinkCutsTornLastLineOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Record(context.Background(), testEvent(0)))
	require.NoError(t, s.Close())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"v":1,"time":"2024-`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	s, err = audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Record(context.Background(), testEvent(1)))
	require.NoError(t, s.Close())
	got, err := s.Query(context.Background(), audit.Query{})
	require.NoError(t, err)
	assert.Equal(t, []audit.Event{testEvent(0), testEvent(1)}, got)
}

func TestFileSinkCutsFileWithoutAnyNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(`{"v":1,"ti`), 0o600))
	s, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, data)
}

func TestFileSinkRejectsLineWithNewline(t *testing.T) {
	s, err := audit.NewFileSink(filepath.Join(t.TempDir(), "a.jsonl"), audit.FileOptions{})
	require.NoError(t, err)
	defer s.Close()
	assert.Error(t, s.WriteLine(context.Background(), []byte("a\nb")))
}

func TestFileSinkHonoursContext(t *testing.T) {
	s, err := audit.NewFileSink(filepath.Join(t.TempDir(), "a.jsonl"), audit.FileOptions{})
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.Record(ctx, testEvent(0)), context.Canceled)
}

func TestFileSinkFlushSyncsOnFlushPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Flush(ctx), "nothing to sync")
	require.NoError(t, s.Record(ctx, testEvent(0)))
	// Written to the OS before Record returned, before any fsync.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, splitLines(data), 1)
	require.NoError(t, s.Flush(ctx))
	require.NoError(t, s.Close())
}

func TestNewFileSinkFailsOnMissingDirectory(t *testing.T) {
	_, err := audit.NewFileSink(filepath.Join(t.TempDir(), "no", "such", "a.jsonl"), audit.FileOptions{})
	assert.Error(t, err)
	_, err = audit.OpenLog(filepath.Join(t.TempDir(), "no", "a.jsonl"))
	assert.Error(t, err)
}

func TestOpenLogReadsFilesInOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	require.NoError(t, os.WriteFile(path, []byte("c\n"), 0o600))
	require.NoError(t, os.WriteFile(audit.RotatedName(path, 10), []byte("b\n"), 0o600))
	require.NoError(t, os.WriteFile(audit.RotatedName(path, 2), []byte("a\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "log.12x456"), []byte("ignored\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.000001"), []byte("ignored\n"), 0o600))
	rc, err := audit.OpenLog(path)
	require.NoError(t, err)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "a\nb\nc\n", string(data))
	assert.Equal(t, filepath.Join(dir, "log.000010"), audit.RotatedName(path, 10))
}

func TestFileSinkQueryDuringRotationSeesAPrefix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.NewFileSink(path, audit.FileOptions{MaxSize: 1 << 10, Sync: audit.SyncOnFlush})
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			if !assert.NoError(t, s.Record(ctx, testEvent(i))) {
				return
			}
		}
	}()
	last := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		got, err := s.Query(ctx, audit.Query{})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(got), last)
		for i, e := range got {
			require.Equal(t, testEvent(i), e)
		}
		last = len(got)
	}
	got, err := s.Query(ctx, audit.Query{})
	require.NoError(t, err)
	assert.Len(t, got, 300)
}
