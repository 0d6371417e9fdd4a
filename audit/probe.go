package audit

import (
	"errors"
	"fmt"
	"io"
)

// LogKind says what an audit stream holds, as far as it can be told without
// keys.
type LogKind uint8

// Log kinds.
const (
	// LogEmpty: no line at all; a Chain may start it.
	LogEmpty LogKind = iota
	// LogPlain: its first line is a plain event, as FileSink.Record and
	// SQLSink.Record write without a Chain; Verify reports it as
	// ErrNotChained, and no Chain can continue it.
	LogPlain
	// LogChained: its first line is a chained record or checkpoint; whether
	// it is intact takes the keys (Verify, ContinueChain).
	LogChained
)

// String names the kind: "empty", "plain" or "chained".
func (k LogKind) String() string {
	switch k {
	case LogEmpty:
		return "empty"
	case LogPlain:
		return "plain"
	case LogChained:
		return "chained"
	}
	return fmt.Sprintf("LogKind(%d)", uint8(k))
}

// ProbeLog reads the first line of r (OpenLog reads a FileSink's files) and
// says what kind of log it is, and how many lines r holds, without any key:
// so that a program can refuse, before it makes or loads the chain's keys,
// a log that no chain could continue. It checks nothing a key would check:
// a line that merely looks chained is LogChained. A first line that is
// neither an event nor a chained line fails with an error wrapping
// ErrCorrupt.
func ProbeLog(r io.Reader) (kind LogKind, lines int64, err error) {
	kind = LogEmpty
	var parsed parsedLine
	for line, err := range readLines(r) {
		if err != nil {
			return kind, lines, fmt.Errorf("audit: probe: %w", err)
		}
		lines++
		if lines > 1 {
			continue
		}
		switch {
		case isChainedLine(line):
			kind = LogChained
		case parseLine(line, &parsed) == nil && parsed.kind == kindEvent:
			kind = LogPlain
		default:
			return kind, lines, fmt.Errorf("audit: probe: line 1: %w", errors.Join(ErrCorrupt, errors.New("neither an event nor a chained record")))
		}
	}
	return kind, lines, nil
}
