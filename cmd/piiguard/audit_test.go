package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

// writeEvents writes events to a JSON Lines file with a FileSink.
func writeEvents(t *testing.T, path string, events ...audit.Event) {
	t.Helper()
	sink, err := audit.NewFileSink(path, audit.FileOptions{})
	require.NoError(t, err)
	for _, e := range events {
		require.NoError(t, sink.Record(context.Background(), e))
	}
	require.NoError(t, sink.Close())
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func sampleEvents() []audit.Event {
	return []audit.Event{
		{Time: t0, Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess, Actor: "u-1", SubjectID: "c-1001", RecordType: "crm.Customer", Field: "Email", Decision: "allow"},
		{Time: t0.Add(time.Hour), Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess, Actor: "u-2", SubjectID: "c-1001", RecordType: "crm.Customer", Field: "Phone", Decision: "mask"},
		{Time: t0.Add(2 * time.Hour), Action: audit.ActionSearch, Outcome: audit.OutcomeSuccess, Actor: "u-1", SubjectID: "c-2002"},
		{Time: t0.Add(3 * time.Hour), Action: audit.ActionDetokenize, Outcome: audit.OutcomeFailure, Actor: "u-2", SubjectID: "c-1001", Decision: "deny", Error: "permission_denied"},
		{Time: t0.Add(4 * time.Hour), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeSuccess, Actor: "ops-alice", KeyName: "fields", KeyID: 42},
	}
}

// decodeLines decodes JSON lines of events.
func decodeLines(t *testing.T, out string) []audit.Event {
	t.Helper()
	var events []audit.Event
	for line := range strings.Lines(out) {
		var e audit.Event
		require.NoError(t, json.Unmarshal([]byte(line), &e), "line %q", line)
		events = append(events, e)
	}
	return events
}

func TestAuditQuery(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	writeEvents(t, log, sampleEvents()...)
	c := testCLI()

	cases := map[string]struct {
		args []string
		want []int // indexes into sampleEvents
	}{
		"everything":          {nil, []int{0, 1, 2, 3, 4}},
		"subject":             {[]string{"-subject", "c-1001"}, []int{0, 1, 3}},
		"subject and actor":   {[]string{"-subject", "c-1001", "-actor", "u-2"}, []int{1, 3}},
		"reveals":             {[]string{"-action", "reveals"}, []int{0, 1, 3}},
		"two actions":         {[]string{"-action", "search,key.rotate"}, []int{2, 4}},
		"repeated -action":    {[]string{"-action", "search", "-action", "key.rotate"}, []int{2, 4}},
		"window":              {[]string{"-since", "2024-05-01T13:00:00Z", "-until", "2024-05-01T15:00:00Z"}, []int{1, 2}},
		"date":                {[]string{"-since", "2024-05-02"}, nil},
		"outcome":             {[]string{"-outcome", "failure"}, []int{3}},
		"decision":            {[]string{"-decision", "allow,mask"}, []int{0, 1}},
		"record type, field":  {[]string{"-record-type", "crm.Customer", "-field", "Phone"}, []int{1}},
		"limit":               {[]string{"-limit", "2", "-subject", "c-1001"}, []int{0, 1}},
		"flags after the log": {[]string{"-actor", "u-1"}, []int{0, 2}},
		"since a duration":    {[]string{"-since", "1h"}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"audit", "query"}, tc.args...)
			if name == "flags after the log" {
				args = append([]string{"audit", "query", log}, tc.args...)
			} else {
				args = append(args, log)
			}
			out, errOut, code := runCLI(t, c, args...)
			require.Equal(t, exitOK, code, errOut)
			got := decodeLines(t, out)
			all := sampleEvents()
			var want []audit.Event
			for _, i := range tc.want {
				want = append(want, all[i])
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestAuditQueryReadsSeveralLogsAndRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	events := sampleEvents()
	a := filepath.Join(dir, "a.jsonl")
	writeEvents(t, audit.RotatedName(a, 1), events[0])
	writeEvents(t, a, events[1])
	b := filepath.Join(dir, "b.jsonl")
	writeEvents(t, b, events[2], events[3])

	out, errOut, code := runCLI(t, testCLI(), "audit", "query", a, b)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, events[:4], decodeLines(t, out))

	out, _, code = runCLI(t, testCLI(), "audit", "query", "-limit", "3", a, b)
	require.Equal(t, exitOK, code)
	assert.Equal(t, events[:3], decodeLines(t, out))

	_, errOut, code = runCLI(t, testCLI(), "audit", "query", filepath.Join(dir, "missing.jsonl"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "missing.jsonl")
}

func TestAuditQueryReportsCorruptLinesAndGoesOn(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	writeEvents(t, log, sampleEvents()[:2]...)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"v":1,"time":"not a time"}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	writeEvents(t, log, sampleEvents()[2])

	out, errOut, code := runCLI(t, testCLI(), "audit", "query", log)
	assert.Equal(t, exitFailed, code)
	assert.Len(t, decodeLines(t, out), 3, "the events around the corrupt line are printed")
	assert.Contains(t, errOut, "line 3")
	assert.NotContains(t, errOut, "not a time", "errors never quote a line")
}

// chainLog writes a chained log of n events signed with the keysets of e
// (audit-mac and audit-sign), with a checkpoint every 2 records and a
// witness, and returns the paths.
func chainLog(t *testing.T, e *testEnv, n int) (log, witness string) {
	t.Helper()
	ctx := context.Background()
	root, err := localkey.OpenRootKey(ctx, e.root)
	require.NoError(t, err)
	defer root.Close()
	st, err := openStore(e.store, storeMustExist)
	require.NoError(t, err)
	defer st.Close()
	k, err := kms.NewKeyring(root, st, kms.KeyringOptions{})
	require.NoError(t, err)
	defer k.Close()
	mac, err := k.MAC(ctx, audit.ChainMACKeyset)
	require.NoError(t, err)
	signer, err := k.Signer(ctx, audit.ChainSignKeyset)
	require.NoError(t, err)

	log = filepath.Join(e.dir, "chain.jsonl")
	witness = filepath.Join(e.dir, "witness.jsonl")
	ls, err := audit.NewFileSink(log, audit.FileOptions{})
	require.NoError(t, err)
	ws, err := audit.NewFileSink(witness, audit.FileOptions{})
	require.NoError(t, err)
	chain, err := audit.NewChain(ls, mac, signer, audit.ChainOptions{CheckpointEvery: 2, Witness: ws})
	require.NoError(t, err)
	for i := range n {
		ev := sampleEvents()[i%5]
		require.NoError(t, chain.Record(ctx, ev))
	}
	require.NoError(t, chain.Close(ctx))
	require.NoError(t, ls.Close())
	require.NoError(t, ws.Close())
	return log, witness
}

func TestAuditVerify(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "audit-mac", "mac")
	e.ok("keys", "create", "audit-sign", "signature")
	log, witness := chainLog(t, e, 5)
	verify := []string{"audit", "verify"} // the keysets audit-mac and audit-sign by default

	out := e.ok(append(verify, log)...)
	assert.Contains(t, out, "OK      "+log+": 5 records, 3 checkpoints, last checkpoint at seq 5, 0 records after it")
	out = e.ok("audit", "verify", "-mac-keyset", "audit-mac", "-sign-keyset", "audit-sign", log)
	assert.Contains(t, out, "OK      "+log+": 5 records, 3 checkpoints")
	e.ok(append(verify, "-checkpoint-every", "2", "-witness", witness, log)...)

	// Queries read chained logs too.
	out = e.ok("audit", "query", "-subject", "c-1001", log)
	assert.Len(t, decodeLines(t, out), 3)

	data, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")

	t.Run("a modified record", func(t *testing.T) {
		bad := filepath.Join(e.dir, "modified.jsonl")
		require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), `"actor":"u-2"`, `"actor":"u-9"`, 1)), 0o600))
		out, errOut := e.fail(exitFailed, append(verify, log, bad)...)
		assert.Contains(t, out, "OK      "+log)
		assert.Contains(t, out, "FAILED  "+bad+": audit: log tampered at line 2 (seq 2)")
		assert.Contains(t, errOut, "1 of 2 logs failed verification")
	})
	t.Run("a truncated log, with its witness", func(t *testing.T) {
		short := filepath.Join(e.dir, "short.jsonl")
		require.NoError(t, os.WriteFile(short, []byte(strings.Join(lines[:3], "")), 0o600))
		e.ok(append(verify, short)...) // a prefix verifies on its own
		out, _ := e.fail(exitFailed, append(verify, "-witness", witness, short)...)
		assert.Contains(t, out, "FAILED  "+short)
		assert.Contains(t, out, "truncated")
	})
	t.Run("usage", func(t *testing.T) {
		e.fail(exitUsage, "audit", "verify", "-sign-keyset", "", log)
		e.fail(exitUsage, append(verify, "-witness", witness, log, log)...)
		e.fail(exitUsage, verify...)
	})
	t.Run("wrong keyset purpose", func(t *testing.T) {
		e.fail(exitFailed, "audit", "verify", "-mac-keyset", "audit-sign", log)
	})
}

func TestAuditVerifySaysAPlainLogIsNotChained(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "audit-mac", "mac")
	e.ok("keys", "create", "audit-sign", "signature")
	plain := filepath.Join(e.dir, "plain.jsonl")
	writeEvents(t, plain, sampleEvents()...)

	out, errOut := e.fail(exitFailed, "audit", "verify", plain)
	assert.Contains(t, out, "FAILED  "+plain+": this log is not chained: its 5 lines are plain events with no MAC (written without a chain), so there is nothing to verify\n")
	assert.Contains(t, errOut, "audit verify: 1 of 1 log is not chained\n")
	assert.NotContains(t, strings.ToLower(out+errOut), "tamper")
	err := e.c.run(context.Background(), []string{"audit", "verify", plain}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, audit.ErrNotChained)
	assert.NotErrorIs(t, err, audit.ErrTampered)

	one := filepath.Join(e.dir, "one.jsonl")
	writeEvents(t, one, sampleEvents()[0])
	chained, _ := chainLog(t, e, 3)
	out, errOut = e.fail(exitFailed, "audit", "verify", chained, one)
	assert.Contains(t, out, "OK      "+chained+": 3 records")
	assert.Contains(t, out, "FAILED  "+one+": this log is not chained: its 1 line is a plain event with no MAC")
	assert.Contains(t, errOut, "1 of 2 logs is not chained")
	assert.NotContains(t, strings.ToLower(out+errOut), "tamper")

	// Not chained and tampered, each said of its own log.
	data, err := os.ReadFile(chained)
	require.NoError(t, err)
	bad := filepath.Join(e.dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), `"actor":"u-2"`, `"actor":"u-9"`, 1)), 0o600))
	_, errOut = e.fail(exitFailed, "audit", "verify", bad, plain, one)
	assert.Contains(t, errOut, "1 of 3 logs failed verification and 2 are not chained")
}

// chainedLines asserts that every line of the log at path is a record or a
// checkpoint of a chain, and returns the lines.
func chainedLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %d", i+1)
		_, rec := m["mac"]
		_, cp := m["sig"]
		assert.True(t, rec || cp, "line %d is not chained: %s", i+1, line)
	}
	return lines
}

func TestKeysAuditWritesAChainThatVerifies(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			log := filepath.Join(e.dir, "keys-audit.jsonl")
			e.ok("keys", "create", "fields", "aead", "-audit", log)
			e.ok("keys", "rotate", "fields", "-audit", log)
			chainedLines(t, log)

			// Records: the chain's two keysets, the create, the rotate;
			// a checkpoint closes each command.
			out := e.ok("audit", "verify", log)
			assert.Equal(t, "OK      "+log+": 4 records, 2 checkpoints, last checkpoint at seq 4, 0 records after it\n", out)
			events, err := audit.QueryFiles(context.Background(), log, audit.Query{})
			require.NoError(t, err)
			var got []string
			for _, ev := range events {
				got = append(got, string(ev.Action)+"/"+ev.KeyName)
			}
			assert.Equal(t, []string{"key.create/audit-mac", "key.create/audit-sign", "key.create/fields", "key.rotate/fields"}, got)
			assert.Equal(t, kms.PurposeMAC, record(t, e.store, audit.ChainMACKeyset).Purpose)
			assert.Equal(t, kms.PurposeSignature, record(t, e.store, audit.ChainSignKeyset).Purpose)

			// keys verify-backup takes the chain's keys from -store.
			backup := filepath.Join(e.dir, "b.json")
			e.ok("keys", "backup", backup, "-audit", log)
			e.ok("keys", "verify-backup", backup, "-audit", log)
			assert.Contains(t, e.ok("audit", "verify", log), ": 6 records, 4 checkpoints")
			t.Setenv(envStore, "")
			_, errOut := e.fail(exitUsage, "keys", "verify-backup", backup, "-audit", log)
			assert.Contains(t, errOut, "-audit needs -store")
		})
	}
}

func TestKeysRefuseAPlainAuditLog(t *testing.T) {
	e := newEnv(t, "sqlite")
	plain := filepath.Join(e.dir, "plain.jsonl")
	writeEvents(t, plain, sampleEvents()...)
	before, err := os.ReadFile(plain)
	require.NoError(t, err)

	_, errOut := e.fail(exitFailed, "keys", "create", "fields", "aead", "-audit", plain)
	assert.Contains(t, errOut, "refused before doing anything: audit log "+plain+" is not chained")
	assert.Contains(t, errOut, "give -audit a new file")
	assert.NotContains(t, strings.ToLower(errOut), "tampered")
	assert.NoFileExists(t, strings.TrimPrefix(e.store, "sqlite:"), "no store was created")
	after, err := os.ReadFile(plain)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the plain log was written to")

	// With a store that exists, nothing is made in it either.
	e.ok("keys", "create", "fields", "aead")
	_, errOut = e.fail(exitFailed, "keys", "rotate", "fields", "-audit", plain)
	assert.Contains(t, errOut, "is not chained")
	assert.Len(t, record(t, e.store, "fields").Versions, 1)
	assert.Contains(t, e.ok("keys", "list"), "fields")
	assert.NotContains(t, e.ok("keys", "list"), "audit-mac")
}

func TestKeysRefuseATamperedAuditLog(t *testing.T) {
	e := newEnv(t, "file")
	log := filepath.Join(e.dir, "audit.jsonl")
	e.ok("keys", "create", "fields", "aead", "-audit", log)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	tampered := strings.Replace(string(data), `"key_name":"fields"`, `"key_name":"fieldz"`, 1)
	require.NotEqual(t, string(data), tampered)
	require.NoError(t, os.WriteFile(log, []byte(tampered), 0o600))

	_, errOut := e.fail(exitFailed, "keys", "rotate", "fields", "-audit", log)
	assert.Contains(t, errOut, "refused before doing anything: audit log "+log+" does not verify")
	assert.Contains(t, errOut, "audit: log tampered at line 3 (seq 3)")
	assert.Len(t, record(t, e.store, "fields").Versions, 1, "the keyset was rotated")
	after, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, tampered, string(after), "the tampered log was written to")

	// A chained log whose keys the store does not hold: refused, and the
	// store gets no keyset for a chain it cannot continue.
	other := storeSpec("sqlite", e.dir, "other")
	e.ok("keys", "create", "fields", "aead", "-store", other)
	chained := filepath.Join(e.dir, "chained.jsonl")
	e.ok("keys", "create", "index", "prf", "-audit", chained)
	_, errOut = e.fail(exitFailed, "keys", "rotate", "fields", "-store", other, "-audit", chained)
	assert.Contains(t, errOut, "audit log "+chained+" cannot be continued: the key store has no \"audit-mac\" keyset")
	assert.Len(t, record(t, other, "fields").Versions, 1)
	assert.NotContains(t, e.ok("keys", "list", "-store", other), "audit-mac")
}

func TestKeysRestoreWithAudit(t *testing.T) {
	e := newEnv(t, "sqlite")
	log := filepath.Join(e.dir, "audit.jsonl")
	e.ok("keys", "create", "fields", "aead", "-audit", log)
	backup := filepath.Join(e.dir, "with-chain-keys.json")
	e.ok("keys", "backup", backup, "-audit", log)

	actions := func(path string) []string {
		t.Helper()
		events, err := audit.QueryFiles(context.Background(), path, audit.Query{})
		require.NoError(t, err)
		var got []string
		for _, ev := range events {
			got = append(got, string(ev.Action)+"/"+ev.KeyName)
		}
		return got
	}

	t.Run("the same log, continued with the restored keys", func(t *testing.T) {
		fresh := storeSpec("sqlite", e.dir, "restored")
		out := e.ok("keys", "restore", backup, "-store", fresh, "-audit", log)
		assert.Contains(t, out, "restored 3 keysets")
		assert.Contains(t, out, "OK: 3 keysets opened")
		assert.Contains(t, e.ok("audit", "verify", "-store", fresh, log), "OK      "+log+": 6 records, 3 checkpoints")
		assert.Equal(t, []string{"key.create/audit-mac", "key.create/audit-sign", "key.create/fields", "key.backup/*", "key.restore/*", "key.verify/*"}, actions(log))
	})
	t.Run("a new log, the chain's keys made after the restore", func(t *testing.T) {
		plainStore := storeSpec("file", e.dir, "no-chain")
		e.ok("keys", "create", "fields", "aead", "-store", plainStore)
		old := filepath.Join(e.dir, "without-chain-keys.json")
		e.ok("keys", "backup", old, "-store", plainStore)

		fresh := storeSpec("file", e.dir, "restored-2")
		newLog := filepath.Join(e.dir, "new-audit.jsonl")
		out := e.ok("keys", "restore", old, "-store", fresh, "-audit", newLog)
		assert.Contains(t, out, "restored 1 keyset")
		assert.Contains(t, out, "OK: 3 keysets opened", "the chain's keysets are made after the restore")
		assert.Contains(t, e.ok("audit", "verify", "-store", fresh, newLog), "OK      "+newLog+": 4 records, 1 checkpoint")
		assert.Equal(t, []string{"key.restore/*", "key.create/audit-mac", "key.create/audit-sign", "key.verify/*"}, actions(newLog))

		// That backup cannot continue a log with records: refused, and
		// the store is not even created.
		never := storeSpec("file", e.dir, "never")
		_, errOut := e.fail(exitFailed, "keys", "restore", old, "-store", never, "-audit", log)
		assert.Contains(t, errOut, "refused before doing anything: audit log "+log+" cannot be continued after this restore: the backup holds no \"audit-mac\" keyset")
		assert.NoDirExists(t, strings.TrimPrefix(never, "file:"))
	})
	t.Run("a failed restore is recorded in a log the store can continue", func(t *testing.T) {
		_, errOut := e.fail(exitFailed, "keys", "restore", backup, "-audit", log)
		assert.Contains(t, errOut, "not empty")
		assert.NotContains(t, errOut, "not recorded")
		got := actions(log)
		assert.Equal(t, "key.restore/*", got[len(got)-1])
		events, err := audit.QueryFiles(context.Background(), log, audit.Query{Outcome: audit.OutcomeFailure})
		require.NoError(t, err)
		assert.Len(t, events, 1)
		e.ok("audit", "verify", log)
	})
}
