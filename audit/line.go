package audit

import (
	"bytes"
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// This file holds the three kinds of line an audit stream carries (a plain
// event, a chained record, a signed checkpoint) and their encodings. The
// formats are documented in doc.go and pinned by testdata/.

var b64 = base64.StdEncoding.Strict()

// checkpointContext prefixes the bytes a checkpoint signature covers, so a
// signature made for a checkpoint means nothing anywhere else.
const checkpointContext = "piiguard audit checkpoint v1\n"

const (
	macSuffix = `,"mac":"`
	sigSuffix = `,"sig":"`
)

type lineKind uint8

const (
	kindEvent lineKind = iota + 1
	kindRecord
	kindCheckpoint
)

// String names the kind, for error messages.
func (k lineKind) String() string {
	switch k {
	case kindEvent:
		return "event"
	case kindRecord:
		return "record"
	case kindCheckpoint:
		return "checkpoint"
	}
	return "unknown"
}

// ChainHead is the position of a chained log: the sequence number and MAC of
// its last record. The head of an empty log is the zero ChainHead.
type ChainHead struct {
	Seq uint64
	MAC []byte
}

// Checkpoint is a signed statement that a chained log's record Seq has the
// MAC MAC, which commits to every record up to Seq. Its JSON encoding is the
// checkpoint line of the log.
type Checkpoint struct {
	// Seq and MAC are the sequence number and MAC of the last record the
	// checkpoint covers.
	Seq uint64
	MAC []byte
	// Time is when the checkpoint was made (UTC).
	Time time.Time
	// Signature is the Tink signature over the checkpoint (see the package
	// documentation for what it covers).
	Signature []byte
}

// Head returns the position the checkpoint commits to.
func (c Checkpoint) Head() ChainHead { return ChainHead{Seq: c.Seq, MAC: c.MAC} }

// Verify checks the checkpoint's signature with v. It returns an error
// wrapping ErrTampered when the signature does not verify.
func (c Checkpoint) Verify(v tink.Verifier) error {
	body, err := appendCheckpointBody([]byte(checkpointContext), c.Seq, c.MAC, c.Time)
	if err != nil {
		return err
	}
	if v.Verify(c.Signature, body) != nil {
		return &VerifyError{Seq: c.Seq, Reason: "checkpoint signature invalid", Err: ErrTampered}
	}
	return nil
}

// MarshalJSON returns the checkpoint line (see the package documentation).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	line, err := appendCheckpointBody(nil, c.Seq, c.MAC, c.Time)
	if err != nil {
		return nil, err
	}
	return appendSig(line, c.Signature), nil
}

// UnmarshalJSON decodes a checkpoint line. It does not verify the signature.
func (c *Checkpoint) UnmarshalJSON(data []byte) error {
	var l parsedLine
	if err := parseLine(data, &l); err != nil {
		return err
	}
	if l.kind != kindCheckpoint {
		return corruptf("not a checkpoint")
	}
	*c = l.cp
	return nil
}

func appendCheckpointBody(dst []byte, seq uint64, mac []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return dst, ErrInvalidEvent
	}
	dst = append(dst, `{"v":1,"checkpoint":{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"mac":"`...)
	dst = b64.AppendEncode(dst, mac)
	dst = append(dst, `","time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...), nil
}

func appendSig(dst, sig []byte) []byte {
	dst = append(dst, sigSuffix...)
	dst = b64.AppendEncode(dst, sig)
	return append(dst, `"}`...)
}

// appendRecordBody appends the part of a chained record that its MAC covers:
// `{"v":1,"seq":N,"prev":"…","event":{…}`.
func appendRecordBody(dst []byte, seq uint64, prev []byte, e *Event) ([]byte, error) {
	dst = append(dst, `{"v":1,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"prev":"`...)
	dst = b64.AppendEncode(dst, prev)
	dst = append(dst, `","event":`...)
	return appendEvent(dst, e)
}

// splitSigned splits a record or checkpoint line into the bytes its MAC or
// signature covers and the MAC or signature, decoded into dst's storage. ok
// is false when the line does not end with the suffix member.
func splitSigned(dst, line []byte, suffix string) (body, tag []byte, ok bool, err error) {
	i := bytes.LastIndex(line, []byte(suffix))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) || i+len(suffix) > len(line)-2 {
		return nil, nil, false, nil
	}
	enc := line[i+len(suffix) : len(line)-2]
	if bytes.IndexByte(enc, '"') >= 0 {
		return nil, nil, false, nil
	}
	tag = slices.Grow(dst[:0], b64.DecodedLen(len(enc)))[:b64.DecodedLen(len(enc))]
	n, err := b64.Decode(tag, enc)
	if err != nil {
		return nil, nil, true, corruptf("bad base64")
	}
	return line[:i], tag[:n], true, nil
}

// parsedLine is one decoded line of an audit stream.
type parsedLine struct {
	kind     lineKind
	seq      uint64
	prev     []byte
	mac      []byte
	event    Event
	eventRaw []byte // a record's event, undecoded after parseLineLazy
	cp       Checkpoint
}

// Members of the record and checkpoint wrappers, for the seen bit set.
const (
	wV = iota
	wSeq
	wPrev
	wEvent
	wMAC
	wCheckpoint
	wSig
)

// parseLine decodes any line of an audit stream: a plain event, a chained
// record or a checkpoint. It authenticates nothing.
func parseLine(data []byte, l *parsedLine) error {
	if err := parseLineLazy(data, l); err != nil {
		return err
	}
	if l.kind == kindRecord {
		return decodeEvent(l.eventRaw, &l.event)
	}
	return nil
}

// parseLineLazy is parseLine leaving a record's event undecoded (but
// syntactically valid JSON) in l.eventRaw.
func parseLineLazy(data []byte, l *parsedLine) error {
	*l = parsedLine{}
	var wrap, ev uint32
	err := scanObject(data, func(key, val []byte) error {
		f := -1
		switch string(key) {
		case "v":
			f = wV
		case "seq":
			f = wSeq
		case "prev":
			f = wPrev
		case "event":
			f = wEvent
		case "mac":
			f = wMAC
		case "checkpoint":
			f = wCheckpoint
		case "sig":
			f = wSig
		}
		if f < 0 {
			return decodeEventMember(&l.event, &ev, key, val)
		}
		if wrap&(1<<f) != 0 {
			return corruptf("repeated member")
		}
		wrap |= 1 << f
		var err error
		switch f {
		case wV:
			ev |= 1 << fV
			err = checkVersion(val)
		case wSeq:
			l.seq, err = parseUint(val, math.MaxInt64)
		case wPrev:
			l.prev, err = parseBase64(val)
		case wEvent:
			if len(val) == 0 || val[0] != '{' {
				err = corruptf("event is not an object")
			}
			l.eventRaw = val
		case wMAC:
			l.mac, err = parseBase64(val)
		case wCheckpoint:
			err = decodeCheckpointBody(val, &l.cp)
		case wSig:
			l.cp.Signature, err = parseBase64(val)
		}
		return err
	})
	if err != nil {
		return err
	}
	const (
		record     = 1<<wV | 1<<wSeq | 1<<wPrev | 1<<wEvent | 1<<wMAC
		checkpoint = 1<<wV | 1<<wCheckpoint | 1<<wSig
	)
	switch {
	case wrap == record && ev == 1<<fV:
		l.kind = kindRecord
	case wrap == checkpoint && ev == 1<<fV:
		l.kind = kindCheckpoint
	case wrap == 1<<wV:
		if err := checkEventMembers(ev); err != nil {
			return err
		}
		l.kind = kindEvent
	default:
		return corruptf("unknown kind of line")
	}
	return nil
}

func parseBase64(val []byte) ([]byte, error) {
	s, err := parseString(val)
	if err != nil {
		return nil, err
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, corruptf("bad base64")
	}
	return b, nil
}

func decodeCheckpointBody(data []byte, c *Checkpoint) error {
	var seen uint8
	err := scanObject(data, func(key, val []byte) error {
		var bit uint8
		var err error
		switch string(key) {
		case "seq":
			bit = 1
			c.Seq, err = parseUint(val, math.MaxInt64)
		case "mac":
			bit = 2
			c.MAC, err = parseBase64(val)
		case "time":
			bit = 4
			var s string
			if s, err = parseString(val); err == nil {
				var t time.Time
				if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
					err = corruptf("bad time")
				}
				c.Time = t.UTC()
			}
		default:
			return corruptf("unknown checkpoint member")
		}
		if seen&bit != 0 {
			return corruptf("repeated checkpoint member")
		}
		seen |= bit
		return err
	})
	if err != nil {
		return err
	}
	if seen != 7 {
		return corruptf("incomplete checkpoint")
	}
	return nil
}

// ParseCheckpoint decodes a checkpoint line and verifies its signature with
// v. It is how a checkpoint kept beside the log (a witness) is read back.
func ParseCheckpoint(line []byte, v tink.Verifier) (Checkpoint, error) {
	var c Checkpoint
	if err := c.UnmarshalJSON(line); err != nil {
		return Checkpoint{}, err
	}
	if err := c.Verify(v); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}
