package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/signature"

	"github.com/piiguard/piiguard/audit"
)

// goldenKeys reads (or, with -update and no files yet, creates) the test-only
// keysets that testdata/chain_v1.jsonl was written with. They protect
// nothing: they exist so that a later release can check it still verifies
// what this one wrote.
func goldenKeys(t *testing.T) testKeys {
	t.Helper()
	macPath := filepath.Join("testdata", "chain_v1_mac_keyset.json")
	sigPath := filepath.Join("testdata", "chain_v1_signer_keyset.json")
	if _, err := os.Stat(macPath); *update && errors.Is(err, os.ErrNotExist) {
		for path, tmpl := range map[string]*tinkpb.KeyTemplate{
			macPath: mac.HMACSHA256Tag256KeyTemplate(),
			sigPath: signature.ED25519KeyTemplate(),
		} {
			h, err := keyset.NewHandle(tmpl)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)))
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		}
	}
	read := func(path string) *keyset.Handle {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(data)))
		require.NoError(t, err)
		return h
	}
	m, err := mac.New(read(macPath))
	require.NoError(t, err)
	sh := read(sigPath)
	s, err := signature.NewSigner(sh)
	require.NoError(t, err)
	ph, err := sh.Public()
	require.NoError(t, err)
	v, err := signature.NewVerifier(ph)
	require.NoError(t, err)
	return testKeys{MAC: m, Signer: s, Verifier: v}
}

func TestChainGoldenV1(t *testing.T) {
	k := goldenKeys(t)
	path := filepath.Join("testdata", "chain_v1.jsonl")
	got := join(writeChain(t, k, 7, audit.ChainOptions{CheckpointEvery: 3}))
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "HMAC and Ed25519 are deterministic: the same keys and events give the same log")

	var events []audit.Event
	rep, err := audit.Verify(bytes.NewReader(want), k.MAC, k.Verifier, audit.VerifyOptions{
		CheckpointEvery: 3,
		Visit:           func(_ uint64, e audit.Event) { events = append(events, e) },
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(7), rep.Records)
	assert.Equal(t, 3, rep.Checkpoints)
	for i, e := range events {
		assert.Equal(t, testEvent(i), e)
	}
}

func TestNewChainRequiresItsKeys(t *testing.T) {
	k := newTestKeys(t)
	_, err := audit.NewChain(nil, k.MAC, k.Signer, audit.ChainOptions{})
	assert.Error(t, err)
	_, err = audit.NewChain(&memLines{}, nil, k.Signer, audit.ChainOptions{})
	assert.Error(t, err)
	_, err = audit.NewChain(&memLines{}, k.MAC, nil, audit.ChainOptions{})
	assert.Error(t, err)
}

func TestChainResumesFromVerifiedHead(t *testing.T) {
	k := newTestKeys(t)
	ctx := context.Background()
	w := &memLines{}
	c1, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 4})
	require.NoError(t, err)
	for i := range 6 {
		require.NoError(t, c1.Record(ctx, testEvent(i)))
	}
	require.NoError(t, c1.Close(ctx))
	assert.ErrorIs(t, c1.Record(ctx, testEvent(0)), audit.ErrClosed)
	_, err = c1.Checkpoint(ctx)
	assert.ErrorIs(t, err, audit.ErrClosed)
	require.NoError(t, c1.Close(ctx), "Close is idempotent")

	rep, err := audit.Verify(bytes.NewReader(w.bytes()), k.MAC, k.Verifier, audit.VerifyOptions{})
	require.NoError(t, err)
	c2, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 4, Head: rep.Head})
	require.NoError(t, err)
	for i := 6; i < 11; i++ {
		require.NoError(t, c2.Record(ctx, testEvent(i)))
	}
	require.NoError(t, c2.Close(ctx))
	assert.Equal(t, uint64(11), c2.Head().Seq)

	var n int
	rep, err = audit.Verify(bytes.NewReader(w.bytes()), k.MAC, k.Verifier, audit.VerifyOptions{
		CheckpointEvery: 4,
		Visit: func(seq uint64, e audit.Event) {
			assert.Equal(t, testEvent(int(seq-1)), e)
			n++
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	assert.Equal(t, uint64(11), rep.LastCheckpoint.Seq)
}

func TestChainFailedWriteLeavesLogUnchanged(t *testing.T) {
	k := newTestKeys(t)
	ctx := context.Background()
	w := &memLines{}
	c, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Record(ctx, testEvent(0)))
	boom := errors.New("disk full")
	w.fail = boom
	assert.ErrorIs(t, c.Record(ctx, testEvent(1)), boom)
	assert.Equal(t, uint64(1), c.Head().Seq)
	w.fail = nil
	require.NoError(t, c.Record(ctx, testEvent(2)))
	_, err = audit.Verify(bytes.NewReader(w.bytes()), k.MAC, k.Verifier, audit.VerifyOptions{})
	require.NoError(t, err)
}

// failingWitness fails while fail is set.
type failingWitness struct {
	memLines
	fail bool
}

func (f *failingWitness) WriteLine(ctx context.Context, line []byte) error {
	if f.fail {
		return errors.New("witness unreachable")
	}
	return f.memLines.WriteLine(ctx, line)
}

func TestChainRetriesFailedCheckpointBeforeNextRecord(t *testing.T) {
	k := newTestKeys(t)
	ctx := context.Background()
	w := &memLines{}
	witness := &failingWitness{fail: true}
	c, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 2, Witness: witness})
	require.NoError(t, err)
	require.NoError(t, c.Record(ctx, testEvent(0)))
	require.NoError(t, c.Record(ctx, testEvent(1)), "the record is stored even though its checkpoint failed")
	assert.ErrorContains(t, c.Record(ctx, testEvent(2)), "witness", "the retried checkpoint fails the next record")
	witness.fail = false
	require.NoError(t, c.Record(ctx, testEvent(2)))
	cp, ok := c.LastCheckpoint()
	require.True(t, ok)
	assert.Equal(t, uint64(2), cp.Seq)
	require.Len(t, witness.lines, 1)
	_, err = audit.Verify(bytes.NewReader(w.bytes()), k.MAC, k.Verifier, audit.VerifyOptions{CheckpointEvery: 2})
	require.NoError(t, err, "a checkpoint written twice still verifies")
}

func TestChainIsSafeForConcurrentUse(t *testing.T) {
	k := newTestKeys(t)
	w := &memLines{}
	c, err := audit.NewChain(w, k.MAC, k.Signer, audit.ChainOptions{CheckpointEvery: 50})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				assert.NoError(t, c.Record(context.Background(), testEvent(g*100+i)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, c.Close(context.Background()))
	rep, err := audit.Verify(bytes.NewReader(w.bytes()), k.MAC, k.Verifier, audit.VerifyOptions{CheckpointEvery: 50})
	require.NoError(t, err)
	assert.Equal(t, uint64(800), rep.Records)
}

func TestChainRejectsUnencodableEvent(t *testing.T) {
	k := newTestKeys(t)
	c, err := audit.NewChain(&memLines{}, k.MAC, k.Signer, audit.ChainOptions{})
	require.NoError(t, err)
	e := testEvent(0)
	e.Time = e.Time.AddDate(9000, 0, 0)
	assert.ErrorIs(t, c.Record(context.Background(), e), audit.ErrInvalidEvent)
	assert.Zero(t, c.Head().Seq)
}

func TestCheckpointJSONRoundTrip(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, k, 3, audit.ChainOptions{})
	line := lines[len(lines)-1]
	var cp audit.Checkpoint
	require.NoError(t, cp.UnmarshalJSON(line))
	require.NoError(t, cp.Verify(k.Verifier))
	b, err := cp.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, string(line), string(b))
	assert.Equal(t, uint64(3), cp.Head().Seq)
	assert.ErrorIs(t, cp.UnmarshalJSON(lines[0]), audit.ErrCorrupt, "a record is not a checkpoint")
	cp.Seq++
	assert.ErrorIs(t, cp.Verify(k.Verifier), audit.ErrTampered)
}

func TestLatestCheckpointFailsOnForgedSignature(t *testing.T) {
	k := newTestKeys(t)
	lines := writeChain(t, newTestKeys(t), 3, audit.ChainOptions{})
	_, _, err := audit.LatestCheckpoint(bytes.NewReader(join(lines)), k.Verifier)
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, int64(4), ve.Line)
	_, ok, err := audit.LatestCheckpoint(bytes.NewReader(nil), k.Verifier)
	require.NoError(t, err)
	assert.False(t, ok)
}
