package pii

import (
	"context"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// call is what a Seal or an Open call holds besides its walk: its context,
// its Protector, and the field keyset's AEAD, with which it encrypts and
// decrypts one field at a time under the field's associated data.
type call struct {
	walker
	ctx  context.Context
	p    *Protector
	aead tink.AEAD // fetched from the key ring on first use
	raw  []byte    // the decoded ciphertext of the field being opened
}

// gatherBound is gather for a call that binds values to their record: one
// whose record type has protected fields but no ID, or whose context is
// done, fails before anything is walked.
func gatherBound(ctx context.Context, op string, v any, batch bool) (records, error) {
	rs, err := gather(op, v, batch)
	if err != nil || rs.rp == nil {
		return rs, err
	}
	if rs.rp.idErr != nil {
		return rs, rs.rp.idErr
	}
	if err := ctx.Err(); err != nil {
		return rs, fmt.Errorf("pii: %s: %w", rs.op, err)
	}
	return rs, nil
}

func (c *call) begin(ctx context.Context, p *Protector, rs *records) {
	c.walker.begin(rs)
	c.ctx, c.p = ctx, p
}

func (c *call) end() {
	c.walker.end()
	c.ctx, c.p, c.aead = nil, nil, nil
	c.raw = c.raw[:0]
}

func (c *call) fieldAEAD(s *step) (tink.AEAD, error) {
	if c.aead == nil {
		a, err := c.p.keys.AEAD(c.ctx, c.p.opts.FieldKeyset)
		if err != nil {
			return nil, c.errAt(s, err)
		}
		c.aead = a
	}
	return c.aead, nil
}

// encrypt encrypts plain, the value of the field of step s, and returns
// its protected value.
func (c *call) encrypt(s *step, plain []byte) (string, error) {
	a, err := c.fieldAEAD(s)
	if err != nil {
		return "", err
	}
	ad, err := c.bind.associatedData(c.prefix, s.path)
	if err != nil {
		return "", err
	}
	ct, err := a.Encrypt(plain, ad)
	if err != nil {
		return "", c.errAt(s, err)
	}
	return encodeCiphertext(ct), nil
}

// parse decodes the protected value text into c's ciphertext buffer, which
// the next parse overwrites.
func (c *call) parse(s *step, text string) ([]byte, uint32, error) {
	raw, keyID, err := appendCiphertext(c.raw, text)
	if err != nil {
		return nil, 0, c.errAt(s, err)
	}
	c.raw = raw[:0]
	return raw, keyID, nil
}

// decrypt opens text, the protected value of the field of step s.
func (c *call) decrypt(s *step, text string) ([]byte, error) {
	raw, keyID, err := c.parse(s, text)
	if err != nil {
		return nil, err
	}
	return c.decryptRaw(s, raw, keyID)
}

// decryptRaw opens a parsed ciphertext of the field of step s, made with
// key version keyID.
func (c *call) decryptRaw(s *step, raw []byte, keyID uint32) ([]byte, error) {
	a, err := c.fieldAEAD(s)
	if err != nil {
		return nil, err
	}
	ad, err := c.bind.associatedData(c.prefix, s.path)
	if err != nil {
		return nil, err
	}
	pt, err := a.Decrypt(raw, ad)
	if err != nil {
		return nil, c.errAt(s, decryptErr(err, keyID))
	}
	return pt, nil
}
