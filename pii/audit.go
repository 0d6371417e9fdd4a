package pii

import (
	"errors"
	"fmt"
	"time"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

// revealed queues the audit event of a revealed field.
func (w *walker) revealed(lf *leaf, keyName string, keyID uint32) {
	if w.p.opts.Audit == nil {
		return
	}
	_, _ = w.recordID() // best effort: token fields need no ID
	w.events = append(w.events, audit.Event{
		Time: time.Now().UTC(), Action: audit.ActionReveal, Outcome: audit.OutcomeSuccess,
		RecordType: w.rec, Field: w.pathString(lf.seg), Class: string(lf.class),
		SubjectID: w.id, KeyName: keyName, KeyID: keyID,
	})
}

// report records the queued reveal events; if the sink fails, nothing is
// revealed.
func (w *walker) report() error {
	for _, e := range w.events {
		if err := w.p.opts.Audit.Record(w.ctx, e); err != nil {
			return fieldErr(e.RecordType, e.Field, fmt.Errorf("%w: %w", ErrAudit, err))
		}
	}
	return nil
}

// reportFailure records a failed Open of one field, as well as it can.
func (w *walker) reportFailure(err error) {
	if w.mode != modeOpen || w.p.opts.Audit == nil {
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return
	}
	_ = w.p.opts.Audit.Record(w.ctx, audit.Event{
		Time: time.Now().UTC(), Action: audit.ActionReveal, Outcome: audit.OutcomeFailure,
		RecordType: fe.RecordType, Field: fe.Path, SubjectID: w.id, KeyName: w.p.opts.FieldKeyset,
		Error: errorCode(err),
	})
}

// errorCode is the class of an error for an audit event.
func errorCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{ErrInvalidCiphertext, "invalid_ciphertext"}, {ErrUnsupportedFormat, "unsupported_format"},
		{ErrPlaintext, "plaintext"}, {ErrMissingID, "missing_id"}, {ErrCycle, "cycle"},
		{ErrTooLarge, "too_large"}, {ErrUnsupportedType, "unsupported_type"}, {ErrNoTokenizer, "no_tokenizer"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return string(kms.ErrorCode(err))
}
