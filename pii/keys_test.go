package pii

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

func TestOldKeyVersionStillOpensAndDestroyedOneFails(t *testing.T) {
	env := newEnv(t, Options{})
	old := lucy()
	require.NoError(t, env.p.Seal(ctx, &old))
	v1, err := kms.NewAdmin(env.kr).Versions(ctx, DefaultFieldKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(env.kr).Rotate(ctx, DefaultFieldKeyset)
	require.NoError(t, err)

	fresh := lucy()
	fresh.ID = "cus_2"
	require.NoError(t, env.p.Seal(ctx, &fresh))
	assert.NotEqual(t, keyIDOf(t, old.Name), keyIDOf(t, fresh.Name), "new values use the new primary")

	o := old
	require.NoError(t, env.p.Open(ctx, &o), "the old version still opens")

	// Re-sealing an opened record moves it to the new version.
	require.NoError(t, env.p.Seal(ctx, &o))
	assert.Equal(t, keyIDOf(t, fresh.Name), keyIDOf(t, o.Name))

	require.NoError(t, kms.NewAdmin(env.kr).Disable(ctx, DefaultFieldKeyset, v1[0].ID))
	d := old
	assert.ErrorIs(t, env.p.Open(ctx, &d), kms.ErrDisabled)
	require.NoError(t, env.p.Seal(ctx, &d), "Seal keeps a value of a retired version")
	assert.Equal(t, old, d)

	require.NoError(t, kms.NewAdmin(env.kr).Destroy(ctx, DefaultFieldKeyset, v1[0].ID))
	err = env.p.Open(ctx, &d)
	require.ErrorIs(t, err, kms.ErrDestroyed)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Name", fe.Path)
	assert.Equal(t, old, d)
}

func keyIDOf(t *testing.T, ct string) uint32 {
	t.Helper()
	_, id, err := parseCiphertext(ct)
	require.NoError(t, err)
	return id
}

func TestContextCancelled(t *testing.T) {
	env := newEnv(t, Options{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	c := lucy()
	assert.ErrorIs(t, env.p.Seal(cctx, &c), context.Canceled)
	assert.Equal(t, lucy(), c)
}

func TestOpenReportsRevealsAndFailsClosedOnAudit(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	require.NoError(t, env.p.Seal(ctx, &c))
	assert.Empty(t, env.events.all(), "sealing reveals nothing")
	sealed := c
	require.NoError(t, env.p.Open(ctx, &c))
	ev := env.events.all()
	require.Len(t, ev, 1, "one event per record and decision")
	assert.Equal(t, audit.ActionReveal, ev[0].Action)
	assert.Equal(t, "Customer", ev[0].RecordType)
	assert.Equal(t, "Name,Email,Phone,NationalID", ev[0].Field)
	assert.Equal(t, "identity,contact,government_id", ev[0].Class)
	assert.Equal(t, "cus_1001", ev[0].SubjectID)
	assert.Equal(t, audit.DecisionAllow, ev[0].Decision)
	assert.Equal(t, "access control disabled", ev[0].Reason)
	assert.Equal(t, DefaultFieldKeyset, ev[0].KeyName)
	assert.NotZero(t, ev[0].KeyID)

	env.events.fail = errors.New("disk full")
	c = sealed
	err := env.p.Open(ctx, &c)
	require.ErrorIs(t, err, ErrAudit)
	assert.Equal(t, sealed, c, "no audit record, no plaintext")

	env.events.fail = nil
	c = sealed
	c.Phone = c.Name
	require.Error(t, env.p.Open(ctx, &c))
	ev = env.events.all()
	last := ev[len(ev)-1]
	assert.Equal(t, audit.OutcomeFailure, last.Outcome)
	assert.Equal(t, "Phone", last.Field)
	assert.Equal(t, "invalid_ciphertext", last.Error)
}

type fakeTokenizer struct{ calls int }

func (f *fakeTokenizer) Tokenize(_ context.Context, domain, v string) (string, error) {
	f.calls++
	return "tok_" + domain + "_" + reverse(v), nil
}

func (f *fakeTokenizer) Detokenize(_ context.Context, domain, tok string) (string, error) {
	return reverse(strings.TrimPrefix(tok, "tok_"+domain+"_")), nil
}

func (f *fakeTokenizer) IsToken(domain, v string) bool {
	return strings.HasPrefix(v, "tok_"+domain+"_")
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

func TestTokenFields(t *testing.T) {
	type Payment struct {
		ID        string `pii:"id"`
		Card      string `pii:"card,token=fpe,search=CardIndex"`
		CardIndex string
	}
	tk := &fakeTokenizer{}
	env := newEnv(t, Options{Tokenizers: map[string]Tokenizer{"fpe": tk}})
	p := Payment{ID: "p1", Card: "4111 1111 1111 1111"}
	require.NoError(t, env.p.Seal(ctx, &p))
	assert.Equal(t, "tok_card_1111 1111 1111 1114", p.Card)
	assert.NotEmpty(t, p.CardIndex)
	require.NoError(t, env.p.Seal(ctx, &p))
	assert.Equal(t, 1, tk.calls, "a token is not tokenized twice")
	require.NoError(t, env.p.Open(ctx, &p))
	assert.Equal(t, "4111 1111 1111 1111", p.Card)
	assert.ErrorIs(t, env.p.Open(ctx, &p), ErrPlaintext)

	none := newEnv(t, Options{})
	err := none.p.Seal(ctx, &p)
	require.ErrorIs(t, err, ErrNoTokenizer)
	assert.Contains(t, err.Error(), "Payment.Card")
}

func TestTokenizerGetsItsOwnCopyOfBytes(t *testing.T) {
	type Raw struct {
		ID   string `pii:"id"`
		Card []byte `pii:"card,token=keep"`
	}
	k := &keepingTokenizer{}
	env := newEnv(t, Options{Tokenizers: map[string]Tokenizer{"keep": k}})
	r := Raw{ID: "r", Card: []byte("4111111111111111")}
	buf := r.Card
	require.NoError(t, env.p.Seal(ctx, &r))
	copy(buf, "0000000000000000")
	assert.Equal(t, "4111111111111111", k.kept)
}

type keepingTokenizer struct{ kept string }

func (k *keepingTokenizer) Tokenize(_ context.Context, _, v string) (string, error) {
	k.kept = v
	return "T", nil
}
func (k *keepingTokenizer) Detokenize(context.Context, string, string) (string, error) {
	return k.kept, nil
}
func (k *keepingTokenizer) IsToken(_, v string) bool { return v == "T" }

func TestKeyRingFailures(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	require.NoError(t, env.p.Seal(ctx, &c))

	t.Run("a ciphertext from another key ring", func(t *testing.T) {
		other := newEnv(t, Options{})
		d := c
		err := other.p.Open(ctx, &d)
		require.ErrorIs(t, err, ErrInvalidCiphertext)
		assert.ErrorIs(t, err, kms.ErrNotFound)
		assert.Contains(t, err.Error(), "which the field keyset does not have")
	})
	t.Run("a missing keyset", func(t *testing.T) {
		p, err := New(env.kr, Options{Checker: access.InsecureAllowAll, FieldKeyset: "nope", SearchKeyset: "nope-either"})
		require.NoError(t, err)
		d := lucy()
		err = p.Seal(ctx, &d)
		require.ErrorIs(t, err, kms.ErrNotFound)
		assert.Contains(t, err.Error(), "Customer.Name")
		_, err = p.SearchTerms(ctx, Customer{}, "Email", "x@example.com")
		assert.ErrorIs(t, err, kms.ErrNotFound)
	})
	t.Run("a closed key ring", func(t *testing.T) {
		closed := newEnv(t, Options{})
		d := lucy()
		require.NoError(t, closed.p.Seal(ctx, &d))
		require.NoError(t, closed.kr.Close())
		err := closed.p.Open(ctx, &d)
		require.ErrorIs(t, err, kms.ErrClosed)
		assert.NotErrorIs(t, err, ErrInvalidCiphertext)
	})
	t.Run("nil key ring", func(t *testing.T) {
		_, err := New(nil, Options{})
		assert.Error(t, err)
	})
	t.Run("bad tokenizer", func(t *testing.T) {
		_, err := New(env.kr, Options{Checker: access.InsecureAllowAll, Tokenizers: map[string]Tokenizer{"x": nil}})
		assert.Error(t, err)
	})
}
