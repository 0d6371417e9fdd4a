package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// auditCommands are the subcommands of "piiguard audit".
var auditCommands = map[string]commandFunc{
	"verify": (*cli).auditVerify,
	"query":  (*cli).auditQuery,
}

// auditVerify checks chained audit logs with the MAC and signature
// keysets of the key store (audit.ChainMACKeyset and audit.ChainSignKeyset
// unless named). It prints a line per log and fails if any log does not
// verify. A log of plain events is reported as not chained, not as
// tampered: it has no MAC to check.
func (c *cli) auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("audit verify")
	g := &globalFlags{}
	fs.StringVar(&g.root, "root", "", "root key `URI` (default $"+envRoot+")")
	fs.StringVar(&g.store, "store", "", "key store `SPEC`: sqlite:PATH, file:DIR or postgres://... (default $"+envStore+")")
	macName := fs.String("mac-keyset", audit.ChainMACKeyset, "the MAC keyset of the chain (`NAME`)")
	signName := fs.String("sign-keyset", audit.ChainSignKeyset, "the signature keyset of the checkpoints (`NAME`)")
	every := fs.Int("checkpoint-every", 0, "require a checkpoint after every `N` records, as the chain was configured (0: do not check)")
	witness := fs.String("witness", "", "the chain's witness `file`: the log must reach its last checkpoint (one LOG only)")
	pos, ok, err := parseArgs(fs, args, stdout, "[-root URI] [-store SPEC] [-mac-keyset NAME] [-sign-keyset NAME] [-checkpoint-every N] [-witness FILE] LOG...")
	if !ok {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("wants at least one LOG")
	case *macName == "" || *signName == "":
		return usagef("-mac-keyset and -sign-keyset must name keysets")
	case *every < 0:
		return usagef("-checkpoint-every must not be negative")
	case *witness != "" && len(pos) != 1:
		return usagef("-witness belongs to one chain: give one LOG with it")
	}
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	mac, err := s.keyring.MAC(ctx, *macName)
	if err != nil {
		return err
	}
	verifier, err := s.keyring.Verifier(ctx, *signName)
	if err != nil {
		return err
	}
	opts := audit.VerifyOptions{CheckpointEvery: *every}
	if *witness != "" {
		cp, found, err := latestCheckpoint(*witness, verifier)
		if err != nil {
			return fmt.Errorf("witness %s: %w", *witness, err)
		}
		if found {
			opts.Trusted = &cp
		} else {
			fmt.Fprintf(stderr, "warning: witness %s holds no checkpoint\n", *witness)
		}
	}
	var failed, plain int
	var causes []error // the sentinels of the failures, once each
	for _, path := range pos {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := verifyLog(path, mac, verifier, opts)
		switch {
		case errors.Is(err, audit.ErrNotChained):
			plain++
			fmt.Fprintf(stdout, "FAILED  %s: %s\n", path, notChained(rep.Lines))
			continue
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAILED  %s: %v (%s verified before)\n", path, err, count(rep.Records, "record"))
			for _, cause := range []error{audit.ErrTampered, audit.ErrCorrupt} {
				if errors.Is(err, cause) && !slices.Contains(causes, cause) {
					causes = append(causes, cause)
				}
			}
			continue
		}
		last := "no checkpoint"
		if rep.Checkpoints > 0 {
			last = fmt.Sprintf("last checkpoint at seq %d", rep.LastCheckpoint.Seq)
		}
		fmt.Fprintf(stdout, "OK      %s: %s, %s, %s, %s after it\n", path, count(rep.Records, "record"), count(rep.Checkpoints, "checkpoint"), last, count(rep.Unsealed, "record"))
	}
	logs := count(len(pos), "log")
	var msg string
	switch {
	case failed > 0 && plain > 0:
		msg = fmt.Sprintf("%d of %s failed verification and %d %s not chained", failed, logs, plain, isAre(plain))
	case failed > 0:
		msg = fmt.Sprintf("%d of %s failed verification", failed, logs)
	case plain > 0:
		msg = fmt.Sprintf("%d of %s %s not chained", plain, logs, isAre(plain))
	default:
		return nil
	}
	if plain > 0 {
		causes = append(causes, audit.ErrNotChained)
	}
	// The lines above name each log's failure; the sentinels are for
	// errors.Is, not repeated in the message.
	return &sentinelError{msg: msg, errs: causes}
}

// notChained describes a log of lines plain events.
func notChained(lines int64) string {
	what := "its 1 line is a plain event"
	if lines != 1 {
		what = fmt.Sprintf("its %d lines are plain events", lines)
	}
	return "this log is not chained: " + what + " with no MAC (written without a chain), so there is nothing to verify"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func verifyLog(path string, mac tink.MAC, verifier tink.Verifier, opts audit.VerifyOptions) (audit.VerifyReport, error) {
	if _, err := os.Stat(path); err != nil {
		return audit.VerifyReport{}, err
	}
	rc, err := audit.OpenLog(path)
	if err != nil {
		return audit.VerifyReport{}, err
	}
	defer rc.Close()
	return audit.Verify(rc, mac, verifier, opts)
}

func latestCheckpoint(path string, verifier tink.Verifier) (audit.Checkpoint, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return audit.Checkpoint{}, false, err
	}
	defer f.Close()
	return audit.LatestCheckpoint(f, verifier)
}

// auditQuery prints the events of the logs that the query selects, as JSON
// lines, in the order of the logs. It reads on past a corrupt line,
// reports it on stderr, and then fails.
func (c *cli) auditQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit query")
	var q audit.Query
	fs.StringVar(&q.SubjectID, "subject", "", "events about this data subject `ID`")
	fs.StringVar(&q.Actor, "actor", "", "events by this principal `ID`")
	fs.Func("action", "events with one of these `actions`, comma-separated; \"reveals\" and \"data\" name groups (repeatable)", func(s string) error {
		acts, err := parseActions(s)
		q.Actions = append(q.Actions, acts...)
		return err
	})
	fs.Func("decision", "events with one of these access `decisions` (allow, mask, deny), comma-separated", func(s string) error {
		for d := range strings.SplitSeq(s, ",") {
			switch d = strings.TrimSpace(d); d {
			case audit.DecisionAllow, audit.DecisionMask, audit.DecisionDeny:
				q.Decisions = append(q.Decisions, d)
			default:
				return errors.New("must be allow, mask or deny")
			}
		}
		return nil
	})
	fs.Func("outcome", "events with this `outcome`: success or failure", func(s string) error {
		switch o := audit.Outcome(s); o {
		case audit.OutcomeSuccess, audit.OutcomeFailure:
			q.Outcome = o
			return nil
		}
		return errors.New("must be success or failure")
	})
	fs.StringVar(&q.RecordType, "record-type", "", "events about this record `type`")
	fs.StringVar(&q.Field, "field", "", "events about this field `path` (alone or in a record event's list)")
	now := time.Now()
	fs.Func("since", "events at or after `T` (RFC 3339, 2006-01-02, or a duration back from now: 24h)", func(s string) (err error) {
		q.Since, err = parseTime(s, now)
		return err
	})
	fs.Func("until", "events before `T` (as -since)", func(s string) (err error) {
		q.Until, err = parseTime(s, now)
		return err
	})
	fs.IntVar(&q.Limit, "limit", 0, "print at most `N` events (0: all)")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] LOG...")
	if !ok {
		return err
	}
	if len(pos) == 0 {
		return usagef("wants at least one LOG")
	}
	if q.Limit < 0 {
		return usagef("-limit must not be negative")
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return usagef("-since must be before -until")
	}
	printed, bad := 0, 0
	for _, path := range pos {
		sub := q
		if q.Limit > 0 {
			sub.Limit = q.Limit - printed
			if sub.Limit <= 0 {
				break
			}
		}
		n, nbad, err := queryLog(ctx, path, sub, stdout, stderr)
		printed += n
		bad += nbad
		if err != nil {
			return err
		}
	}
	if bad > 0 {
		return fmt.Errorf("%s could not be read: %w", count(bad, "line"), audit.ErrCorrupt)
	}
	return nil
}

// queryLog runs q over one log and prints what matches. It returns the
// number of events printed and of unreadable lines; err is for what stops
// the query (a log that cannot be opened, a write error, ctx).
func queryLog(ctx context.Context, path string, q audit.Query, stdout, stderr io.Writer) (printed, bad int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, 0, err
	}
	rc, err := audit.OpenLog(path)
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	for e, err := range audit.QueryReader(rc, q) {
		if cerr := ctx.Err(); cerr != nil {
			return printed, bad, cerr
		}
		if err != nil {
			bad++
			fmt.Fprintf(stderr, "%s: %s: %v\n", programName, path, err)
			if !errors.Is(err, audit.ErrCorrupt) {
				return printed, bad, err
			}
			continue
		}
		line, err := e.MarshalJSON()
		if err != nil {
			return printed, bad, err
		}
		if _, err := stdout.Write(append(line, '\n')); err != nil {
			return printed, bad, err
		}
		printed++
	}
	return printed, bad, nil
}

func parseActions(s string) ([]audit.Action, error) {
	var out []audit.Action
	for a := range strings.SplitSeq(s, ",") {
		switch a = strings.TrimSpace(a); a {
		case "":
			return nil, errors.New("empty action")
		case "reveals":
			out = append(out, audit.RevealActions()...)
		case "data":
			out = append(out, audit.DataActions()...)
		default:
			out = append(out, audit.Action(a))
		}
	}
	return out, nil
}

// parseTime reads an RFC 3339 time, a date (UTC midnight) or a duration
// back from now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("want an RFC 3339 time, a date (2006-01-02) or a duration (24h)")
}
