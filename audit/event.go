package audit

import (
	"context"
	"time"
)

// Action names what happened. Actions are stable strings: they are written
// into audit records and queried by operators, so an action is never renamed.
type Action string

// Actions reported by piiguard's packages. Host applications may define their
// own actions; they should use a prefix of their own (for example "app.").
const (
	// Key operations, reported by package kms.
	ActionKeyCreate         Action = "key.create"
	ActionKeyRotate         Action = "key.rotate"
	ActionKeyEnable         Action = "key.enable"
	ActionKeyDisable        Action = "key.disable"
	ActionKeyDestroy        Action = "key.destroy"
	ActionKeyRewrap         Action = "key.rewrap"
	ActionKeyBackup         Action = "key.backup"
	ActionKeyRestore        Action = "key.restore"
	ActionKeyVerify         Action = "key.verify"
	ActionSubjectKeyCreate  Action = "subject_key.create"
	ActionSubjectKeyDestroy Action = "subject_key.destroy"

	// Data operations, reported by packages pii and tokenize.
	ActionReveal     Action = "reveal"
	ActionSearch     Action = "search"
	ActionExport     Action = "export"
	ActionErase      Action = "erase"
	ActionTokenize   Action = "tokenize"
	ActionDetokenize Action = "detokenize"
)

// Outcome says whether the operation an event describes succeeded.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
)

// Event is one audit record. It describes who did what to which record,
// field and key, when, why and with what result.
//
// An Event never carries a value: no plaintext, ciphertext, token, key
// material, passphrase or credential. Fields hold names and identifiers
// only (record types, field paths, key names and IDs, subject IDs). Code that
// builds events must keep it that way; the tests of every package that
// reports events scan them for the values they handled.
type Event struct {
	// Time is when the operation happened (UTC).
	Time time.Time
	// Action is what was done.
	Action Action
	// Outcome is whether it succeeded.
	Outcome Outcome
	// Actor is the ID of the principal that acted ("" when unknown, for
	// example a key operation run by an operator tool without identity).
	Actor string
	// Purpose is the declared purpose of the access (support, billing, …).
	Purpose string
	// RecordType, Field and Class name the data touched: the Go type of the
	// record, the field path inside it and the field's data class. An event
	// about several fields of a record (package pii) lists their paths and
	// classes comma-separated.
	RecordType string
	Field      string
	Class      string
	// SubjectID identifies the data subject (customer) the data belongs to.
	SubjectID string
	// Decision and Reason are the access decision (allow, mask, deny) and
	// the rule or reason behind it, when an access check was made.
	Decision string
	Reason   string
	// KeyName and KeyID name the key used or changed: a keyset name and the
	// Tink key ID of one of its versions (0 when not about one version).
	KeyName string
	KeyID   uint32
	// RequestID ties the event to the host application's request or trace.
	RequestID string
	// Error is the class of the failure when Outcome is failure, such as
	// "unavailable" or "permission_denied". It is never an error message,
	// which could carry more than a class.
	Error string
	// TraceID is the distributed trace the operation ran in (for example a
	// W3C trace-context trace ID), when the host application has one.
	TraceID string
}

// Decisions as written into Event.Decision by package access. They are plain
// strings so that audit stays a leaf package; queries filter on them.
const (
	DecisionAllow = "allow"
	DecisionMask  = "mask"
	DecisionDeny  = "deny"
)

// IsReveal reports whether a is an action that discloses protected data to
// the caller: a reveal, a detokenization or an export. Sinks and detectors
// treat these actions as fail-closed: when their audit record cannot be
// written, the data must not be disclosed.
func IsReveal(a Action) bool {
	switch a {
	case ActionReveal, ActionDetokenize, ActionExport:
		return true
	}
	return false
}

// Sink receives audit events. Every package of piiguard reports through this
// one interface.
//
// Record must be safe for concurrent use. A Sink that returns an error tells
// the caller that the event was not recorded; for operations that reveal
// data, callers fail closed on that error (no audit record, no plaintext).
type Sink interface {
	Record(ctx context.Context, e Event) error
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(ctx context.Context, e Event) error

// Record calls f(ctx, e).
func (f SinkFunc) Record(ctx context.Context, e Event) error { return f(ctx, e) }

// Discard is a Sink that drops every event. Using it is a deliberate choice
// to run without an audit trail (tests, demos); production code should not.
var Discard Sink = discard{}

type discard struct{}

func (discard) Record(context.Context, Event) error { return nil }
