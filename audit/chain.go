package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// LineWriter stores the lines of an audit stream in order. FileSink and
// SQLSink implement it; a Chain writes through one.
//
// WriteLine must store line (which holds no newline) as one unit, after every
// line it stored before, or return an error and store nothing. It must not
// keep line after it returns. It must be safe for concurrent use.
type LineWriter interface {
	WriteLine(ctx context.Context, line []byte) error
}

// Flusher is the optional capability of a sink that buffers: Flush makes
// durable what Record or WriteLine accepted before it was called. AsyncSink,
// FileSink and Chain implement it.
type Flusher interface {
	Flush(ctx context.Context) error
}

// DefaultCheckpointEvery is the number of records between two checkpoints
// when ChainOptions.CheckpointEvery is zero.
const DefaultCheckpointEvery = 1000

// ChainOptions are the optional settings of a Chain. The zero value is
// usable.
type ChainOptions struct {
	// CheckpointEvery is the number of records between two signed
	// checkpoints (default DefaultCheckpointEvery; negative: only on
	// Checkpoint and Close). The records after the last checkpoint are the
	// tail that a truncation can remove without Verify noticing, so a
	// smaller number narrows that window at the cost of a signature each
	// time.
	CheckpointEvery int
	// Head continues an existing log: the head reported by Verify over it.
	// The zero value starts a new log at sequence number 1.
	Head ChainHead
	// Witness, when set, also receives every checkpoint line: a file on
	// another volume or host, a table in another database. A checkpoint
	// kept out of reach of whoever can rewrite the log is what lets Verify
	// detect a truncation (see VerifyOptions.Trusted).
	Witness LineWriter
	// Now returns the time written into checkpoints (default time.Now).
	Now func() time.Time
}

// Chain is a Sink that writes a tamper-evident log: every event becomes a
// record carrying its sequence number, the MAC of the record before it and
// its own MAC, computed with a Tink MAC over the previous MAC followed by the
// record's canonical encoding. Every CheckpointEvery records, and on Close, it
// writes a checkpoint signed with a Tink Signer. Verify checks such a log.
//
// A Chain is safe for concurrent use; records are written one at a time, in
// the order Record is called.
type Chain struct {
	w       LineWriter
	mac     tink.MAC
	signer  tink.Signer
	every   uint64
	witness LineWriter
	now     func() time.Time

	mu       sync.Mutex
	seq      uint64
	prev     []byte
	needCP   bool
	closed   bool
	lastCP   Checkpoint
	hasCP    bool
	buf      []byte
	lastSave uint64 // seq of the last checkpoint written
}

// NewChain returns a Chain that writes to w, computing record MACs with mac
// and signing checkpoints with signer. All three are required. The MAC key
// and the signing key should be used for nothing else.
func NewChain(w LineWriter, mac tink.MAC, signer tink.Signer, opts ChainOptions) (*Chain, error) {
	if w == nil || mac == nil || signer == nil {
		return nil, errors.New("audit: NewChain needs a LineWriter, a MAC and a Signer")
	}
	c := &Chain{
		w:       w,
		mac:     mac,
		signer:  signer,
		witness: opts.Witness,
		now:     opts.Now,
		seq:     opts.Head.Seq,
		prev:    append([]byte(nil), opts.Head.MAC...),
		buf:     make([]byte, 0, 1024),
	}
	switch {
	case opts.CheckpointEvery == 0:
		c.every = DefaultCheckpointEvery
	case opts.CheckpointEvery > 0:
		c.every = uint64(opts.CheckpointEvery)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.lastSave = c.seq
	return c, nil
}

// ContinueChain returns a Chain that appends to an existing chained log,
// after verifying it: r yields the lines the log holds so far (OpenLog reads
// a FileSink's files, rotated ones included), w is where new lines go (the
// same FileSink). An empty log starts at sequence number 1, so a program
// can call ContinueChain on every start, whether the log exists or not.
//
// Nothing is written when the log does not verify: a log that was never
// chained (plain events only) fails with an error wrapping ErrNotChained, a
// damaged one with the *VerifyError of Verify (ErrTampered, ErrCorrupt). The
// report says what verified. opts.Head must be zero: the head comes from
// the log.
func ContinueChain(r io.Reader, w LineWriter, mac tink.MAC, signer tink.Signer, verifier tink.Verifier, opts ChainOptions) (*Chain, VerifyReport, error) {
	if r == nil || verifier == nil {
		return nil, VerifyReport{}, errors.New("audit: ContinueChain needs the log's lines and a Verifier")
	}
	if opts.Head.Seq != 0 || opts.Head.MAC != nil {
		return nil, VerifyReport{}, errors.New("audit: ContinueChain takes the head from the log: leave ChainOptions.Head zero")
	}
	if mac == nil {
		return nil, VerifyReport{}, errors.New("audit: NewChain needs a LineWriter, a MAC and a Signer")
	}
	rep, err := Verify(r, mac, verifier, VerifyOptions{CheckpointEvery: max(opts.CheckpointEvery, 0)})
	if err != nil {
		return nil, rep, fmt.Errorf("audit: continue chain: %w", err)
	}
	opts.Head = rep.Head
	c, err := NewChain(w, mac, signer, opts)
	return c, rep, err
}

// Record appends e to the log as the next record. It returns an error, and
// the log is unchanged, when the record cannot be encoded, MACed or written.
//
// When a periodic checkpoint cannot be written after a record, Record still
// returns nil (the record is stored); the checkpoint is retried before the
// next record, and that record fails if it fails again.
func (c *Chain) Record(ctx context.Context, e Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errSinkClosed
	}
	if c.needCP {
		if _, err := c.checkpointLocked(ctx); err != nil {
			return err
		}
	}
	buf := append(c.buf[:0], c.prev...)
	start := len(buf)
	buf, err := appendRecordBody(buf, c.seq+1, c.prev, &e)
	if err != nil {
		return err
	}
	tag, err := c.mac.ComputeMAC(buf)
	if err != nil {
		return fmt.Errorf("audit: computing record MAC: %w", err)
	}
	buf = append(buf, macSuffix...)
	buf = b64.AppendEncode(buf, tag)
	buf = append(buf, `"}`...)
	c.buf = buf
	if err := c.w.WriteLine(ctx, buf[start:]); err != nil {
		return err
	}
	c.seq++
	c.prev = tag
	if c.every > 0 && c.seq%c.every == 0 {
		c.needCP = true
		_, _ = c.checkpointLocked(ctx) // retried before the next record
	}
	return nil
}

// Checkpoint writes a signed checkpoint for the current head now (also to the
// witness) and returns it.
func (c *Chain) Checkpoint(ctx context.Context) (Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Checkpoint{}, errSinkClosed
	}
	return c.checkpointLocked(ctx)
}

func (c *Chain) checkpointLocked(ctx context.Context) (Checkpoint, error) {
	cp := Checkpoint{
		Seq:  c.seq,
		MAC:  c.prev,
		Time: c.now().UTC().Round(0),
	}
	msg, err := appendCheckpointBody([]byte(checkpointContext), cp.Seq, cp.MAC, cp.Time)
	if err != nil {
		return Checkpoint{}, err
	}
	cp.Signature, err = c.signer.Sign(msg)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: signing checkpoint: %w", err)
	}
	line := appendSig(msg[len(checkpointContext):], cp.Signature)
	if err := c.w.WriteLine(ctx, line); err != nil {
		return Checkpoint{}, err
	}
	if c.witness != nil {
		if err := c.witness.WriteLine(ctx, line); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: writing checkpoint to witness: %w", err)
		}
	}
	c.needCP = false
	c.lastCP, c.hasCP = cp, true
	c.lastSave = cp.Seq
	return cp, nil
}

// Head returns the current head of the log.
func (c *Chain) Head() ChainHead {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ChainHead{Seq: c.seq, MAC: append([]byte(nil), c.prev...)}
}

// LastCheckpoint returns the last checkpoint this Chain wrote, and false if
// it wrote none.
func (c *Chain) LastCheckpoint() (Checkpoint, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCP, c.hasCP
}

// Flush flushes the underlying writer when it is a Flusher.
func (c *Chain) Flush(ctx context.Context) error {
	if f, ok := c.w.(Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// Close writes a final checkpoint when records were added since the last one,
// then refuses further records with ErrClosed. It does not close the
// underlying writer. Calling Close again does nothing.
func (c *Chain) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if c.seq != c.lastSave || c.needCP {
		if _, err := c.checkpointLocked(ctx); err != nil {
			return err
		}
	}
	c.closed = true
	return nil
}

// Keyset names under which piiguard's own programs keep the keys of a
// chained log in a key store: the MAC keyset (kms.PurposeMAC) and the
// checkpoint signing keyset (kms.PurposeSignature). The quickstart and
// cmd/piiguard create them with the other keys, and `piiguard audit verify`
// looks for them by default. A host application may use other names.
const (
	ChainMACKeyset  = "audit-mac"
	ChainSignKeyset = "audit-sign"
)
