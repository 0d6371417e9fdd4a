package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/piiguard/piiguard/access"
)

// Open turns the sealed fields of the record record points to back into
// plaintext, and detokenizes token= fields, as far as Options.Checker lets
// the principal in ctx (see access.WithPrincipal) see them: for each
// non-empty field it asks for an access.ActionReveal decision and sets the
// plaintext (Allow), the kind's Mask (Mask) or the zero value (Deny, or an
// error wrapping access.ErrDenied under Options.StrictAccess). A context
// without a principal is denied. An error from the Checker other than
// access.ErrNoPrincipal fails Open with ErrAccessCheck.
//
// It fails with ErrPlaintext if a field holds plaintext (unless
// Options.MigrationModeAllowPlaintext), and with ErrInvalidCiphertext if a
// value is malformed, tampered with, or was sealed for another record type,
// field or record ID. A value sealed with a disabled or destroyed key
// version fails with an error wrapping kms.ErrDisabled or kms.ErrDestroyed.
// A denied field is not decrypted.
//
// Open changes the record only if it succeeds for every field, and records
// its audit events (one per decision) to Options.Audit first: no audit
// record, no plaintext.
func (p *Protector) Open(ctx context.Context, record any) error {
	return open(ctx, p, record, false)
}

// OpenAll opens every record of records, like Open; it changes the
// records only if it succeeds for all of them. Access decisions are shared
// across the records: a question asked again within the call (same field,
// and the same owner, subject and tenant where the Checker reads them —
// see access.RecordInputReporter) is not asked of the Checker again.
func (p *Protector) OpenAll(ctx context.Context, records any) error {
	return open(ctx, p, records, true)
}

// opener is the visitor of Open and OpenAll: for each non-empty protected
// field it asks the access gate for a decision (gate.go), reveals what the
// decision allows — the plaintext, its mask, or nothing — and notes the
// decision for the record's audit events (events.go).
type opener struct {
	call
	gate   gate
	events revealEvents
}

var openers = sync.Pool{New: func() any { return new(opener) }}

func open(ctx context.Context, p *Protector, v any, batch bool) error {
	rs, err := gatherBound(ctx, "Open", v, batch)
	if err != nil || rs.rp == nil {
		return err
	}
	o := openers.Get().(*opener)
	defer o.release()
	o.begin(ctx, p, &rs)
	req := access.NewRequest(ctx, access.ActionReveal, access.Resource{})
	o.gate.begin(p.opts.Checker, &req, rs.rp, rs.batch)
	o.events.begin(ctx, p.sink, &req)
	err = rs.each(func(r reflect.Value) error {
		o.gate.record()
		if err := o.record(o, r); err != nil {
			o.events.failed(ctx, p.sink, err, o.bind.id, p.opts.FieldKeyset)
			return err
		}
		o.events.flush(o.bind.id)
		return nil
	})
	if err != nil {
		return err
	}
	if err := o.events.report(ctx, p.sink, rs.rp.st.name); err != nil {
		return err
	}
	o.changes.apply()
	return nil
}

func (o *opener) release() {
	o.call.end()
	o.gate.end()
	o.events.end()
	openers.Put(o)
}

// field opens one protected field for the caller, as far as the access
// decision lets it: allow sets the plaintext, mask the kind's mask, deny
// the zero value (without decrypting). Malformed values and plaintext are
// errors whatever the decision.
func (o *opener) field(s *step, sv reflect.Value) error {
	fv := fieldAt(sv, s.at)
	if s.leaf.op == leafValue {
		return o.value(s, fv)
	}
	text := leafText(s.leaf.op, fv)
	if text == "" {
		return nil // nothing to reveal: no decision, no event
	}
	if s.leaf.token != "" {
		return o.detokenize(s, fv, text)
	}
	if !marked(text) {
		return o.plaintext(s, fv, text, nil)
	}
	return o.sealed(s, fv, text, nil)
}

// value opens a Value[T] field.
func (o *opener) value(s *step, fv reflect.Value) error {
	vf := fv.Addr().Interface().(valueField)
	switch vf.piiState() {
	case valueEmpty:
		return nil
	case valuePlain:
		return o.plaintext(s, fv, "", vf)
	case valueMasked:
		return o.errAt(s, fmt.Errorf("%w: the value holds a mask from Redact", ErrPlaintext))
	}
	return o.sealed(s, fv, vf.piiText(), vf)
}

// sealed opens text, the protected value of the field of step s, as the
// access decision allows, into fv: into the field itself, or, for a
// Value[T] field (vf not nil), as a new box.
func (o *opener) sealed(s *step, fv reflect.Value, text string, vf valueField) error {
	raw, keyID, err := o.parse(s, text)
	if err != nil {
		return err
	}
	if _, err := o.bind.recordID(); err != nil {
		return err // a ciphertext without its ID is an error, even if denied
	}
	path := o.path(s)
	d, err := o.decide(s, path)
	if err != nil {
		return err
	}
	keyName := o.p.opts.FieldKeyset
	if d.Effect == access.Deny {
		o.withhold(s, fv, path, d, keyName, keyID)
		return nil
	}
	pt, err := o.decryptRaw(s, raw, keyID)
	if err != nil {
		return err
	}
	switch {
	case vf == nil && d.Effect == access.Mask:
		o.changes.setCopy(s.leaf.op, fv, Mask(s.leaf.kind, bytesToString(pt)))
	case vf == nil:
		o.changes.set(s.leaf.op, fv, bytesToString(pt))
	case d.Effect == access.Mask:
		o.changes.setBox(fv, vf.piiWithText(Mask(s.leaf.kind, bytesToString(pt)), false))
	default:
		box, err := vf.piiWithPlain(pt)
		if err != nil {
			return o.errAt(s, err)
		}
		o.changes.setBox(fv, box)
	}
	o.events.note(s, path, d, keyName, keyID)
	return nil
}

// detokenize opens a token= field.
func (o *opener) detokenize(s *step, fv reflect.Value, text string) error {
	t, err := tokenizerFor(o.p.opts.Tokenizers, s.leaf.token, s.leaf.kind)
	if err != nil {
		return o.errAt(s, err)
	}
	domain := string(s.leaf.kind)
	if !t.IsToken(domain, text) {
		return o.plaintext(s, fv, text, nil)
	}
	if irreversible(t) {
		// The token is the field's value by design (a join key): there is
		// nothing to reveal, and nothing to decide.
		return nil
	}
	path := o.path(s)
	d, err := o.decide(s, path)
	if err != nil {
		return err
	}
	keyName := "token:" + s.leaf.token
	if d.Effect == access.Deny {
		o.withhold(s, fv, path, d, keyName, 0)
		return nil
	}
	v, err := t.Detokenize(o.ctx, domain, text)
	if err != nil {
		return o.errAt(s, fmt.Errorf("pii: detokenize: %w", err))
	}
	if d.Effect == access.Mask {
		v = Mask(s.leaf.kind, v)
	}
	o.changes.setCopy(s.leaf.op, fv, v)
	o.events.note(s, path, d, keyName, 0)
	return nil
}

// plaintext handles plaintext found where a protected value belongs: an
// error, unless Options.MigrationModeAllowPlaintext, and then the access
// decision still applies (a plaintext field is masked or zeroed like a
// sealed one). vf is set for a Value field.
func (o *opener) plaintext(s *step, fv reflect.Value, text string, vf valueField) error {
	if !o.p.opts.MigrationModeAllowPlaintext {
		return o.errAt(s, fmt.Errorf("%w: the field is not sealed (Options.MigrationModeAllowPlaintext is off)", ErrPlaintext))
	}
	path := o.path(s)
	d, err := o.decide(s, path)
	if err != nil {
		return err
	}
	switch d.Effect {
	case access.Deny:
		o.withhold(s, fv, path, d, "", 0)
		return nil
	case access.Mask:
		if vf != nil {
			m := "***"
			if b, err := vf.piiPlain(); err == nil {
				m = Mask(s.leaf.kind, bytesToString(b))
			}
			o.changes.setBox(fv, vf.piiWithText(m, false))
		} else {
			o.changes.setCopy(s.leaf.op, fv, Mask(s.leaf.kind, text))
		}
	}
	o.events.note(s, path, d, "", 0)
	return nil
}

// decide asks the gate about the field of step s, at path, of the record
// being walked.
func (o *opener) decide(s *step, path string) (access.Decision, error) {
	if o.gate.uniform {
		return o.gate.all, nil // every field's, decided once for the call
	}
	d, err := o.gate.decide(o.ctx, &o.bind, s, path, o.p.opts.StrictAccess)
	if errors.Is(err, access.ErrDenied) && !errors.Is(err, ErrAccessCheck) {
		o.events.denied(s, path, d) // a strict denial, for the failure event
	}
	return d, err
}

// withhold zeroes the denied field fv and notes the denial.
func (o *opener) withhold(s *step, fv reflect.Value, path string, d access.Decision, keyName string, keyID uint32) {
	o.changes.zero(fv)
	o.events.note(s, path, d, keyName, keyID)
}
