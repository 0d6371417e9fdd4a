package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// MaxLineSize is the longest line Verify and the queries read; a longer line
// is reported as corrupt.
const MaxLineSize = 1 << 20

// VerifyOptions are the optional settings of Verify. The zero value verifies
// a log from its first record.
type VerifyOptions struct {
	// Start, when set, is a checkpoint the log continues from: older records
	// were archived or removed by retention. Its signature is checked, and
	// the first record must follow it. Without Start the first record must
	// be record 1.
	Start *Checkpoint
	// Trusted is the latest checkpoint known from outside the log, such as
	// the last line of the chain's witness. Its signature is checked, and
	// the log must contain the record it names, with the MAC it names:
	// a log that ends before it fails with ErrTruncated. Without it, a
	// truncated tail is indistinguishable from a log that simply ends, and
	// VerifyReport.Unsealed says how many records that could affect.
	Trusted *Checkpoint
	// CheckpointEvery, when positive, requires that every record whose
	// sequence number is a multiple of it be followed by its checkpoint
	// (unless it is the last line), as a Chain with the same setting writes.
	// It detects deleted checkpoint lines.
	CheckpointEvery int
	// Visit, when set, is called with every record that verified, in order.
	// It is how a query reads only authenticated events.
	Visit func(seq uint64, e Event)
}

// VerifyReport describes the part of a log that verified.
type VerifyReport struct {
	// Lines is the number of lines read.
	Lines int64
	// Records and Checkpoints count the verified records and checkpoints.
	Records     uint64
	Checkpoints int
	// Head is the last verified record; a Chain given it as
	// ChainOptions.Head continues the log.
	Head ChainHead
	// LastCheckpoint is the last verified checkpoint (zero when none).
	LastCheckpoint Checkpoint
	// Unsealed is the number of records after the last checkpoint (or after
	// Start): the tail that could have been cut without this log showing it.
	Unsealed uint64
}

// Verify reads a chained log from r (lines as written by a Chain, possibly
// spread over rotated files: see OpenLog) and checks that it is intact: every
// record's MAC verifies with mac, every checkpoint's signature with verifier,
// sequence numbers follow each other and each record links to the one before.
//
// It detects a record modified, deleted, inserted, duplicated or reordered, a
// forged or misplaced checkpoint, and — given opts.Trusted — a truncation
// that removed a checkpointed record. The error for the first bad line is a
// *VerifyError naming its line and sequence number and wrapping ErrTampered,
// ErrTruncated or ErrCorrupt (a line that cannot be decoded, such as a write
// torn by a crash); an error reading r is returned wrapped. The report
// describes what verified before that line.
func Verify(r io.Reader, mac tink.MAC, verifier tink.Verifier, opts VerifyOptions) (VerifyReport, error) {
	return VerifyLines(readLines(r), mac, verifier, opts)
}

// readLines yields the lines of r without their newline. A line is only
// valid until the next one is requested.
func readLines(r io.Reader) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLineSize)
		for sc.Scan() {
			if !yield(sc.Bytes(), nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = corruptf("line longer than %d bytes", MaxLineSize)
			} else {
				err = fmt.Errorf("audit: reading log: %w", err)
			}
			yield(nil, err)
		}
	}
}

// VerifyLines is Verify over a sequence of lines, such as SQLSink.Lines.
// A line needs to stay valid only until the next one is requested.
func VerifyLines(lines iter.Seq2[[]byte, error], mac tink.MAC, verifier tink.Verifier, opts VerifyOptions) (VerifyReport, error) {
	v := verifier0{mac: mac, verifier: verifier, opts: opts, expSeq: 1}
	if s := opts.Start; s != nil {
		if err := s.Verify(verifier); err != nil {
			return v.rep, fmt.Errorf("audit: start checkpoint: %w", err)
		}
		v.expSeq = s.Seq + 1
		v.prev = append([]byte(nil), s.MAC...)
		v.rep.LastCheckpoint = *s
		v.sealed = s.Seq
	}
	if t := opts.Trusted; t != nil {
		if err := t.Verify(verifier); err != nil {
			return v.rep, fmt.Errorf("audit: trusted checkpoint: %w", err)
		}
	}
	for line, err := range lines {
		if err != nil {
			var ve *VerifyError
			if errors.Is(err, ErrCorrupt) {
				ve = v.fail(v.expSeq, "unreadable line", ErrCorrupt)
				ve.Line++
				return v.report(), ve
			}
			return v.report(), err
		}
		v.rep.Lines++
		if err := v.line(line); err != nil {
			return v.report(), err
		}
	}
	if v.plain > 0 {
		what := fmt.Sprintf("its %d lines are plain events", v.plain)
		if v.plain == 1 {
			what = "its one line is a plain event"
		}
		return v.report(), &VerifyError{
			Line:   1,
			Reason: "this log is not chained: " + what + " with no MAC (written without a Chain), so there is nothing to verify",
			Err:    ErrNotChained,
		}
	}
	if t := opts.Trusted; t != nil && v.expSeq-1 < t.Seq {
		return v.report(), &VerifyError{
			Seq:    t.Seq,
			Line:   v.rep.Lines + 1,
			Reason: fmt.Sprintf("log ends at seq %d, before the trusted checkpoint at seq %d", v.expSeq-1, t.Seq),
			Err:    ErrTruncated,
		}
	}
	return v.report(), nil
}

type verifier0 struct {
	mac      tink.MAC
	verifier tink.Verifier
	opts     VerifyOptions
	rep      VerifyReport
	expSeq   uint64
	prev     []byte
	sealed   uint64 // seq covered by the last checkpoint
	pending  uint64 // seq that must be followed by its checkpoint (0: none)
	scratch  []byte
	tag      []byte // decoded MAC or signature of the current line
	parsed   parsedLine
	plain    int // plain event lines at the start of the log
}

// isChainedLine reports whether line looks like a record or a checkpoint
// (it ends with a MAC or a signature member).
func isChainedLine(line []byte) bool {
	_, _, rec, _ := splitSigned(nil, line, macSuffix)
	_, _, cp, _ := splitSigned(nil, line, sigSuffix)
	return rec || cp
}

func (v *verifier0) report() VerifyReport {
	r := v.rep
	r.Head = ChainHead{Seq: v.expSeq - 1, MAC: append([]byte(nil), v.prev...)}
	r.Unsealed = r.Head.Seq - v.sealed
	return r
}

func (v *verifier0) fail(seq uint64, reason string, err error) *VerifyError {
	return &VerifyError{Seq: seq, Line: v.rep.Lines, Reason: reason, Err: err}
}

func (v *verifier0) line(line []byte) error {
	if v.plain > 0 && isChainedLine(line) {
		ve := v.fail(1, "unchained event before the first record of a chained log: inserted", ErrTampered)
		ve.Line = 1
		return ve
	}
	if body, tag, ok, err := splitSigned(v.tag, line, macSuffix); ok {
		v.tag = tag
		if err != nil {
			return v.fail(v.expSeq, "record MAC is not base64", ErrCorrupt)
		}
		return v.record(line, body, tag)
	}
	if body, sig, ok, err := splitSigned(v.tag, line, sigSuffix); ok {
		v.tag = sig
		if err != nil {
			return v.fail(v.expSeq, "checkpoint signature is not base64", ErrCorrupt)
		}
		return v.checkpoint(line, body, sig)
	}
	if parseLine(line, &v.parsed) == nil {
		if v.rep.Lines == int64(v.plain)+1 && v.opts.Start == nil {
			// Plain events from the first line on: a log that was never
			// chained, unless a chained line follows (see line's callers).
			v.plain++
			return nil
		}
		return v.fail(v.expSeq, "unchained "+v.parsed.kind.String()+" in a chained log: inserted", ErrTampered)
	}
	return v.fail(v.expSeq, "undecodable line", ErrCorrupt)
}

func (v *verifier0) record(line, body, tag []byte) error {
	v.scratch = append(append(v.scratch[:0], v.prev...), body...)
	if v.mac.VerifyMAC(tag, v.scratch) != nil {
		return v.diagnose(line)
	}
	p := &v.parsed
	if err := parseLineLazy(line, p); err != nil || p.kind != kindRecord {
		return v.fail(v.expSeq, "record with a valid MAC does not decode", ErrCorrupt)
	}
	if v.opts.Visit != nil {
		if err := decodeEvent(p.eventRaw, &p.event); err != nil {
			return v.fail(p.seq, "event of a record with a valid MAC does not decode", ErrCorrupt)
		}
	}
	if p.seq != v.expSeq || !bytes.Equal(p.prev, v.prev) {
		return v.fail(p.seq, fmt.Sprintf("record out of place: seq %d where %d expected", p.seq, v.expSeq), ErrTampered)
	}
	if v.pending != 0 {
		return v.fail(p.seq, fmt.Sprintf("checkpoint for seq %d missing", v.pending), ErrTampered)
	}
	if t := v.opts.Trusted; t != nil && t.Seq == p.seq && !bytes.Equal(t.MAC, tag) {
		return v.fail(p.seq, "record differs from the trusted checkpoint", ErrTampered)
	}
	if v.opts.Visit != nil {
		v.opts.Visit(p.seq, p.event)
	}
	v.prev = append(v.prev[:0], tag...)
	v.expSeq++
	v.rep.Records++
	if n := uint64(v.opts.CheckpointEvery); n > 0 && p.seq%n == 0 {
		v.pending = p.seq
	}
	return nil
}

// diagnose explains why a record's MAC failed, for the error. The line is not
// authentic, so what it claims only guides the message.
func (v *verifier0) diagnose(line []byte) error {
	p := &v.parsed
	if err := parseLineLazy(line, p); err != nil || p.kind != kindRecord {
		return v.fail(v.expSeq, "MAC mismatch: record modified or forged", ErrTampered)
	}
	switch {
	case p.seq > v.expSeq:
		return v.fail(p.seq, fmt.Sprintf("seq %d where %d expected: records deleted or reordered", p.seq, v.expSeq), ErrTampered)
	case p.seq < v.expSeq:
		return v.fail(p.seq, fmt.Sprintf("seq %d where %d expected: record duplicated, inserted or reordered", p.seq, v.expSeq), ErrTampered)
	case !bytes.Equal(p.prev, v.prev):
		return v.fail(p.seq, "link to the previous record broken: record replaced or inserted", ErrTampered)
	}
	return v.fail(p.seq, "MAC mismatch: record modified", ErrTampered)
}

func (v *verifier0) checkpoint(line, body, sig []byte) error {
	v.scratch = append(append(v.scratch[:0], checkpointContext...), body...)
	if v.verifier.Verify(sig, v.scratch) != nil {
		return v.fail(v.expSeq-1, "checkpoint signature invalid", ErrTampered)
	}
	p := &v.parsed
	if err := parseLine(line, p); err != nil || p.kind != kindCheckpoint {
		return v.fail(v.expSeq-1, "checkpoint with a valid signature does not decode", ErrCorrupt)
	}
	cp := p.cp
	if cp.Seq != v.expSeq-1 || !bytes.Equal(cp.MAC, v.prev) {
		return v.fail(cp.Seq, fmt.Sprintf("checkpoint for seq %d does not match the record before it (seq %d)", cp.Seq, v.expSeq-1), ErrTampered)
	}
	v.pending = 0
	v.sealed = cp.Seq
	v.rep.Checkpoints++
	v.rep.LastCheckpoint = cp
	return nil
}

// LatestCheckpoint returns the last checkpoint in r, a chain's witness or the
// log itself, after checking the signatures of every checkpoint in it with
// verifier; other lines are skipped. ok is false when r holds no checkpoint.
// A bad signature fails with a *VerifyError wrapping ErrTampered.
func LatestCheckpoint(r io.Reader, verifier tink.Verifier) (cp Checkpoint, ok bool, err error) {
	var lineNo int64
	for line, err := range readLines(r) {
		lineNo++
		if err != nil {
			return Checkpoint{}, false, fmt.Errorf("%w (line %d)", err, lineNo)
		}
		if _, _, isCP, _ := splitSigned(nil, line, sigSuffix); !isCP {
			continue
		}
		c, err := ParseCheckpoint(line, verifier)
		if err != nil {
			var ve *VerifyError
			if errors.As(err, &ve) {
				ve.Line = lineNo
				return Checkpoint{}, false, ve
			}
			return Checkpoint{}, false, fmt.Errorf("%w (line %d)", err, lineNo)
		}
		cp, ok = c, true
	}
	return cp, ok, nil
}
