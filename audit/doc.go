// Package audit defines the audit events that piiguard's packages report and
// the Sink they report them to, and provides sinks, a tamper-evident chained
// log with its verifier, queries for incident response and privacy
// requests, and a detector of abnormal reveals.
//
// Every reveal, denial, search, token operation and key operation produces an
// Event. Events carry names and identifiers — who, what, which record, field
// and key, when, why, with what result — and never values: no plaintext,
// ciphertext, token or key material ever reaches a Sink.
//
// audit is a leaf package: it imports no other piiguard package, so that kms,
// tokenize and pii can all report to it without an import cycle, and so that
// a host application can implement or wrap a Sink on its own. The chain's MAC
// key and its signing key come in as Tink primitives (tink.MAC, tink.Signer,
// tink.Verifier) from whoever builds the chain.
//
// # Sinks
//
//   - FileSink: JSON Lines, one line per event, with size-based rotation
//     (audit.jsonl, then audit.000001.jsonl, audit.000002.jsonl, …) and an
//     explicit fsync policy (SyncEveryWrite, the default, or SyncOnFlush).
//   - SlogSink: log/slog records, for hosts that ship logs centrally.
//   - SQLSink: a table in SQLite (modernc.org/sqlite, driver "sqlite") or
//     PostgreSQL (pgx stdlib, driver "pgx"), chosen by Dialect; its errors
//     name the database when SQLOptions.Label does.
//   - AsyncSink: a bounded buffer in front of another sink, with a policy for
//     a full buffer: Block, DropAndCount or Fail. Its goroutine takes a
//     stream of events in batches (AsyncOptions.Linger), so that Record
//     costs the caller a channel send, not a goroutine wake-up.
//   - Chain: the tamper-evident log, written through a FileSink or an SQLSink.
//   - Detector: alerts on reveal rates and honeytokens, and blocks.
//   - Relay: holds the events reported before the sink they belong in
//     exists (the keyring's creation of the chain's own keys), and hands
//     them over on Connect.
//
// Sinks compose: a typical production stack is
//
//	file, _ := audit.NewFileSink("/var/log/app/audit.jsonl", audit.FileOptions{Sync: audit.SyncOnFlush})
//	chain, _ := audit.NewChain(file, macPrimitive, signer, audit.ChainOptions{Witness: witness})
//	async := audit.NewAsyncSink(chain, audit.AsyncOptions{})
//	sink := audit.NewDetector(audit.SplitReveals(chain, async), audit.DetectorOptions{…})
//
// # Reveals fail closed
//
// An operation that discloses data (IsReveal: reveal, detokenize, export)
// must not disclose it when its audit event was not recorded: no audit
// record, no plaintext. Callers treat an error from Sink.Record as a refusal.
// Sinks keep their side of that contract: a synchronous sink returns nil only
// once the event is stored; an AsyncSink returns nil once the event is
// queued, so for reveals either route them around the buffer with
// SplitReveals (recommended: the reveal waits for its record) or at least
// keep AsyncOptions.RevealPolicy at its default, Fail, so that a full buffer
// refuses them; DropAndCount must never apply to reveals. A Detector refuses
// the reveals of a blocked principal with ErrBlocked.
//
// # Wire format of an event (version 1)
//
// An event is encoded as one JSON object on one line, members in this order,
// empty strings and a zero key_id left out:
//
//	{"v":1,"time":"2024-05-01T12:00:00.123456789Z","action":"reveal",
//	 "outcome":"success","actor":"u-42","purpose":"support",
//	 "record_type":"crm.Customer","field":"Email","class":"email",
//	 "subject_id":"c-1001","decision":"allow","reason":"rule:own-accounts",
//	 "key_name":"fields","key_id":123456,"request_id":"req-9",
//	 "trace_id":"4bf92f35","error":"unavailable"}
//
// "v" is the version (1) and is required, as is "time" (RFC 3339 with
// nanoseconds, always UTC when written). Strings are JSON strings in UTF-8;
// key_id is a decimal integer below 2^32. Decoders reject unknown and
// repeated members: a new member means a new version. A later release keeps
// reading version 1 (testdata/events_v1.jsonl pins it). Event implements
// json.Marshaler and json.Unmarshaler with this encoding (json.Marshal
// escapes <, > and & on top of it, which changes bytes but not meaning).
//
// # The chained log
//
// A Chain writes two more kinds of line into the same stream. A record:
//
//	{"v":1,"seq":7,"prev":"<base64 MAC of record 6>","event":{…event v1…},"mac":"<base64>"}
//
// Sequence numbers start at 1; the prev of record 1 is empty. The MAC is the
// Tink MAC over the MAC of the previous record (raw bytes, none for record
// 1) followed by the record's bytes up to, not including, `,"mac":` — its
// canonical encoding, which holds seq, prev and the event. A checkpoint:
//
//	{"v":1,"checkpoint":{"seq":1000,"mac":"<base64 MAC of record 1000>","time":"…"},"sig":"<base64>"}
//
// written after every CheckpointEvery records and on Close, signed with a
// Tink Signer (Ed25519 recommended) over the text
// "piiguard audit checkpoint v1\n" followed by the line's bytes up to, not
// including, `,"sig":`. Base64 is standard with padding. Checkpoints also go
// to an optional witness beside the log (ChainOptions.Witness).
// testdata/chain_v1.jsonl pins the format with test keys.
//
// Verify reads such a log and checks every MAC, every link and sequence
// number and every checkpoint. It detects a record modified, deleted,
// inserted, duplicated or reordered, and names the first bad line and
// sequence number in a *VerifyError. Cutting the tail of a log leaves a valid
// prefix, so a truncation is detected against a checkpoint kept elsewhere:
// given VerifyOptions.Trusted (the witness's last checkpoint), Verify fails
// with ErrTruncated when the log ends before it. The records after the last
// checkpoint (at most CheckpointEvery − 1, reported as
// VerifyReport.Unsealed) are the window a truncation can remove unseen.
//
// A program that keeps one log across restarts opens it with ContinueChain:
// it verifies what the log already holds and continues from its last record,
// and refuses, writing nothing, a log that does not verify. A log of plain
// events only (FileSink.Record without a Chain) is reported by Verify as
// ErrNotChained ("this log is not chained"), not as tampered: there is no
// MAC to check. A plain event in front of chained records is an insertion
// (ErrTampered). ProbeLog tells an empty, a plain and a chained log apart
// without any key, so that a program can refuse a log no chain could
// continue before it makes or loads the chain's keys.
//
// The MAC key proves records to whoever holds it; anyone holding it can also
// forge records, so it stays with the writer and the auditors. Checkpoints are
// signed so that anyone with only the public key can check them.
//
// # Durability
//
// FileSink with SyncEveryWrite fsyncs every line before Record returns. With
// SyncOnFlush every line is written to the operating system before Record
// returns (it survives a crash of the process) and fsynced on Flush, on
// rotation and on Close; an AsyncSink flushes it each time its buffer drains,
// which groups many events in one fsync. A failed write is cut back off the
// file; a torn last line left by a crash is cut off when the file is opened
// again. Rotation renames the full file, fsyncs the directory, and never
// deletes anything.
//
// # Queries
//
// A Query selects events by subject, actor, actions, decisions, outcome,
// record type, field and time window. QueryReader and QueryFiles run it over
// JSON Lines (plain, chained or mixed), SQLSink.Query over SQL. Queries do
// not authenticate: for evidence, Verify the log first, or collect the events
// through VerifyOptions.Visit.
//
// # Errors
//
// Errors wrap the sentinels ErrBufferFull, ErrClosed, ErrBlocked, ErrCorrupt,
// ErrTampered, ErrTruncated, ErrNotChained and ErrInvalidEvent; verification failures are
// *VerifyError values. Messages name line numbers, sequence numbers and
// members, and never quote an event or a line, so an error is safe to log.
package audit
