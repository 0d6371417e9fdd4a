package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/signature"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
)

// exampleKeys creates a chain MAC key and a checkpoint signing key. In
// production both come from the key hierarchy (package kms), and the
// verifier's public key is given to auditors.
func exampleKeys() (tink.MAC, tink.Signer, tink.Verifier) {
	mh, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	m, err := mac.New(mh)
	if err != nil {
		log.Fatal(err)
	}
	sh, err := keyset.NewHandle(signature.ED25519KeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	signer, err := signature.NewSigner(sh)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := sh.Public()
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := signature.NewVerifier(pub)
	if err != nil {
		log.Fatal(err)
	}
	return m, signer, verifier
}

// A chained log over a JSON Lines file; an insider edits a record to hide who
// read a customer's data, and Verify names the line.
func ExampleVerify() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")

	macKey, signer, verifier := exampleKeys()
	file, err := audit.NewFileSink(path, audit.FileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chain, err := audit.NewChain(file, macKey, signer, audit.ChainOptions{CheckpointEvery: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, actor := range []string{"alice", "mallory", "bob"} {
		err := chain.Record(ctx, audit.Event{
			Time: time.Now(), Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess,
			Actor: actor, RecordType: "crm.Customer", Field: "Email", SubjectID: "c-7",
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := chain.Close(ctx); err != nil {
		log.Fatal(err)
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}

	verifyFile := func() error {
		rc, err := audit.OpenLog(path)
		if err != nil {
			log.Fatal(err)
		}
		defer rc.Close()
		rep, err := audit.Verify(rc, macKey, verifier, audit.VerifyOptions{CheckpointEvery: 2})
		fmt.Printf("verified: records=%d checkpoints=%d\n", rep.Records, rep.Checkpoints)
		return err
	}
	fmt.Println(verifyFile())

	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	data = bytes.Replace(data, []byte(`"actor":"mallory"`), []byte(`"actor":"alice"`), 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		log.Fatal(err)
	}
	err = verifyFile()
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		fmt.Printf("line %d, seq %d: %s\n", ve.Line, ve.Seq, ve.Reason)
	}
	fmt.Println(errors.Is(err, audit.ErrTampered))
	// Output:
	// verified: records=3 checkpoints=2
	// <nil>
	// verified: records=1 checkpoints=0
	// line 2, seq 2: MAC mismatch: record modified
	// true
}

// Incident response: who read customer c-7's data on the day of the breach,
// and what did the suspicious principal reveal that day.
func ExampleQueryFiles() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")
	file, err := audit.NewFileSink(path, audit.FileOptions{MaxSize: 512})
	if err != nil {
		log.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range []audit.Event{
		{Actor: "alice", SubjectID: "c-7", Action: audit.ActionReveal, Field: "Email", Decision: audit.DecisionAllow},
		{Actor: "bob", SubjectID: "c-7", Action: audit.ActionSearch, Field: "Email"},
		{Actor: "eve", SubjectID: "c-7", Action: audit.ActionReveal, Field: "Phone", Decision: audit.DecisionAllow},
		{Actor: "eve", SubjectID: "c-8", Action: audit.ActionReveal, Field: "SSN", Decision: audit.DecisionDeny},
		{Actor: "eve", SubjectID: "c-9", Action: audit.ActionExport, Decision: audit.DecisionAllow},
	} {
		e.Time = day.Add(time.Duration(i+9) * time.Hour)
		if err := file.Record(ctx, e); err != nil {
			log.Fatal(err)
		}
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}

	who, err := audit.QueryFiles(ctx, path, audit.Query{
		SubjectID: "c-7", Actions: audit.RevealActions(), Since: day, Until: day.Add(24 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range who {
		fmt.Println(e.Time.Format(time.Kitchen), e.Actor, e.Action, e.Field)
	}
	what, err := audit.QueryFiles(ctx, path, audit.Query{
		Actor: "eve", Actions: audit.RevealActions(), Decisions: []string{audit.DecisionAllow},
		Since: day, Until: day.Add(24 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range what {
		fmt.Println(e.Actor, e.Action, e.SubjectID, e.Field)
	}
	// Output:
	// 9:00AM alice reveal Email
	// 11:00AM eve reveal Phone
	// eve reveal c-7 Phone
	// eve export c-9
}

// A Detector in front of the audit sink: a honeytoken read raises an alert at
// once and blocks the principal; too many reveals in a window do the same.
func ExampleDetector() {
	ctx := context.Background()
	d := audit.NewDetector(audit.Discard, audit.DetectorOptions{
		Window:            time.Minute,
		MaxReveals:        2,
		Block:             true,
		BlockOnHoneytoken: true,
		Honeytokens:       []string{"c-bait"},
		OnAlert: func(a audit.Alert) {
			fmt.Printf("ALERT %s actor=%s subject=%s blocked=%t\n", a.Kind, a.Actor, a.SubjectID, a.Blocked)
		},
	})
	reveal := func(actor, subject string) error {
		if !d.Allow(actor) { // a cheap check before doing the work
			return audit.ErrBlocked
		}
		return d.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: actor, SubjectID: subject})
	}
	fmt.Println(reveal("mallory", "c-bait"))
	fmt.Println(reveal("mallory", "c-1"))
	for _, s := range []string{"c-1", "c-2", "c-3"} {
		fmt.Println(reveal("scraper", s))
	}
	fmt.Println(reveal("alice", "c-1"))
	// Output:
	// ALERT honeytoken actor=mallory subject=c-bait blocked=true
	// <nil>
	// audit: principal blocked
	// <nil>
	// <nil>
	// ALERT rate actor=scraper subject=c-3 blocked=true
	// audit: principal blocked
	// <nil>
}

// An AsyncSink in front of a slow sink, with reveals written synchronously:
// an ordinary event waits in the buffer, a reveal is recorded before its
// Record returns, and a full buffer refuses what its policy says to refuse.
func ExampleAsyncSink() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "time" {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	}))
	durable := audit.NewSlogSink(logger, audit.SlogOptions{})
	async := audit.NewAsyncSink(durable, audit.AsyncOptions{Size: 100, Policy: audit.DropAndCount})
	sink := audit.SplitReveals(durable, async)

	if err := sink.Record(ctx, audit.Event{Action: audit.ActionSearch, Actor: "alice"}); err != nil {
		log.Fatal(err)
	}
	if err := async.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	if err := sink.Record(ctx, audit.Event{Action: audit.ActionReveal, Actor: "alice", SubjectID: "c-7"}); err != nil {
		log.Fatal("no audit record, no plaintext:", err)
	}
	if err := async.Close(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", async.Stats())
	// Output:
	// level=INFO msg=audit audit.action=search audit.actor=alice
	// level=INFO msg=audit audit.action=reveal audit.actor=alice audit.subject_id=c-7
	// {Queued:0 Recorded:1 Dropped:0 Refused:0 Failed:0}
}

// Truncation: an intruder cuts the tail of the log, checkpoints included.
// The log alone still verifies, but the last checkpoint kept by the witness
// (here a second file; in production another volume or host) shows the cut.
func ExampleVerifyOptions_trusted() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	logPath, witnessPath := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "witness.jsonl")

	macKey, signer, verifier := exampleKeys()
	file, err := audit.NewFileSink(logPath, audit.FileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	witness, err := audit.NewFileSink(witnessPath, audit.FileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chain, err := audit.NewChain(file, macKey, signer, audit.ChainOptions{CheckpointEvery: 10, Witness: witness})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 25 {
		e := audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: "u-1", SubjectID: fmt.Sprint("c-", i)}
		if err := chain.Record(ctx, e); err != nil {
			log.Fatal(err)
		}
	}
	if err := chain.Close(ctx); err != nil {
		log.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{file, witness} {
		if err := c.Close(); err != nil {
			log.Fatal(err)
		}
	}

	// Keep the first 15 lines: records 1 to 14 and the checkpoint after 10.
	data, err := os.ReadFile(logPath)
	if err != nil {
		log.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if err := os.WriteFile(logPath, bytes.Join(lines[:15], nil), 0o600); err != nil {
		log.Fatal(err)
	}

	wf, err := os.Open(witnessPath)
	if err != nil {
		log.Fatal(err)
	}
	defer wf.Close()
	trusted, _, err := audit.LatestCheckpoint(wf, verifier)
	if err != nil {
		log.Fatal(err)
	}
	for _, opts := range []audit.VerifyOptions{{}, {Trusted: &trusted}} {
		lf, err := os.Open(logPath)
		if err != nil {
			log.Fatal(err)
		}
		rep, err := audit.Verify(lf, macKey, verifier, opts)
		lf.Close()
		fmt.Printf("head=%d last checkpoint=%d unsealed=%d err=%v\n", rep.Head.Seq, rep.LastCheckpoint.Seq, rep.Unsealed, err)
	}
	// Output:
	// head=14 last checkpoint=10 unsealed=4 err=<nil>
	// head=14 last checkpoint=10 unsealed=4 err=audit: log truncated at line 16 (seq 25): log ends at seq 14, before the trusted checkpoint at seq 25
}

// A chained log kept in SQL (SQLite here; PostgreSQL with piiguard.Postgres and
// the "pgx" driver), verified row by row and queried for a privacy request.
func ExampleNewSQLSink() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	store, err := audit.NewSQLSink(ctx, db, piiguard.SQLite, audit.SQLOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	macKey, signer, verifier := exampleKeys()
	chain, err := audit.NewChain(store, macKey, signer, audit.ChainOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"c-1", "c-2", "c-1"} {
		e := audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: "support-7", SubjectID: s, Field: "Phone"}
		if err := chain.Record(ctx, e); err != nil {
			log.Fatal(err)
		}
	}
	if err := chain.Close(ctx); err != nil {
		log.Fatal(err)
	}

	rep, err := audit.VerifyLines(store.Lines(ctx), macKey, verifier, audit.VerifyOptions{})
	fmt.Println(rep.Records, rep.Checkpoints, err)
	events, err := store.Query(ctx, audit.Query{SubjectID: "c-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Actor, e.Action, e.SubjectID, e.Field)
	}
	// Output:
	// 3 1 <nil>
	// support-7 reveal c-1 Phone
	// support-7 reveal c-1 Phone
}

// A program that keeps one chained log across restarts: on every start it
// verifies what the log holds and continues it. A plain log, written
// without a Chain, is refused as not chained.
func ExampleContinueChain() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")
	mac, signer, verifier := exampleKeys()

	start := func() {
		file, err := audit.NewFileSink(path, audit.FileOptions{})
		if err != nil {
			log.Fatal(err)
		}
		defer file.Close()
		existing, err := audit.OpenLog(path)
		if err != nil {
			log.Fatal(err)
		}
		chain, rep, err := audit.ContinueChain(existing, file, mac, signer, verifier, audit.ChainOptions{})
		existing.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("start: %d records and %d checkpoints verified\n", rep.Records, rep.Checkpoints)
		_ = chain.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: "agent-7", Field: "Email"})
		_ = chain.Close(ctx) // a final checkpoint
	}
	start()
	start()

	plain := filepath.Join(dir, "plain.jsonl")
	file, _ := audit.NewFileSink(plain, audit.FileOptions{})
	_ = file.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: "agent-7"})
	file.Close()
	f, _ := os.Open(plain)
	defer f.Close()
	_, err = audit.Verify(f, mac, verifier, audit.VerifyOptions{})
	fmt.Println(errors.Is(err, audit.ErrNotChained), errors.Is(err, audit.ErrTampered))
	// Output:
	// start: 0 records and 0 checkpoints verified
	// start: 1 records and 1 checkpoints verified
	// true false
}

// A keyring-like bootstrap: key events happen before the chain that records
// them exists; the Relay holds them and hands them to the chain.
func ExampleRelay() {
	ctx := context.Background()
	var relay audit.Relay
	// The keyring reports the creation of the chain's own keys.
	_ = relay.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionKeyCreate, KeyName: "audit-mac"})
	_ = relay.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionKeyCreate, KeyName: "audit-sign"})

	mac, signer, _ := exampleKeys()
	chain, _ := audit.NewChain(&memLines{}, mac, signer, audit.ChainOptions{})
	fmt.Println("held:", relay.Held())
	if err := relay.Connect(ctx, chain); err != nil {
		log.Fatal(err)
	}
	fmt.Println("held:", relay.Held(), "records:", chain.Head().Seq)
	// Output:
	// held: 2
	// held: 0 records: 2
}

// Before making or loading a chain's keys, a program can tell what kind of
// log a file holds.
func ExampleProbeLog() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")
	file, _ := audit.NewFileSink(path, audit.FileOptions{})
	_ = file.Record(ctx, audit.Event{Time: time.Now(), Action: audit.ActionReveal, Actor: "agent-7"})
	file.Close()

	r, _ := audit.OpenLog(path)
	defer r.Close()
	kind, lines, err := audit.ProbeLog(r)
	fmt.Println(kind, lines, err)
	// Output: plain 1 <nil>
}
