// Package audit defines the audit events that piiguard's packages report and
// the Sink they report them to.
//
// Every reveal, denial, search, token operation and key operation produces an
// Event. Events carry names and identifiers — who, what, which record, field
// and key, when, why, with what result — and never values: no plaintext,
// ciphertext, token or key material ever reaches a Sink.
//
// audit is a leaf package: it imports no other piiguard package, so that kms,
// tokenize and pii can all report to it without an import cycle, and so that
// a host application can implement or wrap a Sink on its own.
package audit
