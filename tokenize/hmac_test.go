package tokenize

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/prf"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

func TestHMACIsDeterministicAndDomainSeparated(t *testing.T) {
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{})
	require.NoError(t, err)
	a1, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	a2, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	b, err := h.Tokenize(ctx, "analytics", "lucy@example.com")
	require.NoError(t, err)
	c, err := h.Tokenize(ctx, "crm", "mina@example.com")
	require.NoError(t, err)

	assert.Equal(t, a1, a2, "same value, same domain: same token")
	assert.NotEqual(t, a1, b, "another domain gives an unrelated token")
	assert.NotEqual(t, a1, c)
	assert.NotEqual(t, a1[len(a1)-26:], b[len(b)-26:], "the MACs differ, not only the domain tags")
	assert.Len(t, a1, hmacTokenLen)
	assert.True(t, strings.HasPrefix(a1, "th1_"))
}

func TestHMACMatchesHMACSHA256UnderTheDerivedKey(t *testing.T) {
	keys := loadFixedKeys(t)
	h, err := NewHMAC(keys, HMACOptions{})
	require.NoError(t, err)
	tok, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)

	set := keys.prfs[DefaultHMACKeyset]
	key, err := set.PRFs[set.PrimaryID].ComputePRF([]byte(hmacLabel+"crm"), 32)
	require.NoError(t, err)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("lucy@example.com"))
	want := b32.EncodeToString(m.Sum(nil)[:macLen])
	assert.True(t, strings.HasSuffix(tok, "_"+want), "the token's MAC is HMAC-SHA256 under the derived domain key, truncated to 16 bytes")
	id, ok := KeyVersion(tok)
	require.True(t, ok)
	assert.Equal(t, set.PrimaryID, id)
}

func TestHMACNormalisesByKind(t *testing.T) {
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{Kinds: map[string]string{"crm": "email", "raw": KindExact}, DefaultCountryCode: "44"})
	require.NoError(t, err)
	tok := func(domain, v string) string {
		t.Helper()
		s, err := h.Tokenize(ctx, domain, v)
		require.NoError(t, err)
		return s
	}
	assert.Equal(t, tok("crm", "lucy@example.com"), tok("crm", "  Lucy@Example.COM "), "Kinds maps crm to email")
	assert.Equal(t, tok("email", "lucy@example.com"), tok("email", "LUCY@example.com"), "a domain named after a kind uses it")
	assert.Equal(t, tok("phone", "+44 20 7946 0800"), tok("phone", "020 7946 0800"), "DefaultCountryCode applies")
	assert.Equal(t, tok("card", "4111 1111-1111 1111"), tok("card", "4111111111111111"))
	assert.NotEqual(t, tok("raw", "Lucy"), tok("raw", "lucy"), "exact domains are not normalised")
	assert.NotEqual(t, tok("other", "Lucy"), tok("other", "lucy"), "unknown kinds are exact")
	assert.Equal(t, tok("name", "lucy  westenra"), tok("name", " Lucy Westenra"))
}

func TestHMACRotationLookupAndMatch(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	h, err := NewHMAC(kr, HMACOptions{})
	require.NoError(t, err)
	old, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	oldID, _ := KeyVersion(old)

	v2, err := kms.NewAdmin(kr).Rotate(ctx, DefaultHMACKeyset)
	require.NoError(t, err)
	cur, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, old, cur, "the new primary makes another token")
	curID, _ := KeyVersion(cur)
	assert.Equal(t, v2.ID, curID, "tokens say which version made them")

	terms, err := h.LookupTokens(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	assert.Equal(t, []string{cur, old}, terms, "primary first, then every other enabled version")

	for _, tok := range []string{old, cur} {
		ok, err := h.Match(ctx, "crm", "lucy@example.com", tok)
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = h.Match(ctx, "crm", "mina@example.com", tok)
		require.NoError(t, err)
		assert.False(t, ok)
	}
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultHMACKeyset, oldID))
	_, err = h.Match(ctx, "crm", "lucy@example.com", old)
	assert.ErrorIs(t, err, ErrUnknownToken, "a disabled version stops at once")
	terms, err = h.LookupTokens(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	assert.Equal(t, []string{cur}, terms)

	_, err = h.Match(ctx, "analytics", "lucy@example.com", cur)
	assert.ErrorIs(t, err, ErrWrongDomain)
	_, err = h.Match(ctx, "crm", "lucy@example.com", "th1_nope")
	assert.ErrorIs(t, err, ErrMalformedToken)
}

func TestHMACDetokenizeIsIrreversible(t *testing.T) {
	log := &eventLog{}
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{Audit: log})
	require.NoError(t, err)
	tok, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	_, err = h.Detokenize(ctx, "crm", tok)
	assert.ErrorIs(t, err, ErrIrreversible)
	_, err = h.Detokenize(ctx, "other", tok)
	assert.ErrorIs(t, err, ErrWrongDomain)
	_, err = h.Detokenize(ctx, "crm", "lucy@example.com")
	assert.ErrorIs(t, err, ErrMalformedToken)
	e := log.last()
	assert.Equal(t, audit.ActionDetokenize, e.Action)
	assert.Equal(t, audit.OutcomeFailure, e.Outcome)
	assert.Equal(t, "invalid_argument", e.Error)
}

func TestHMACIsToken(t *testing.T) {
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{})
	require.NoError(t, err)
	tok, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	assert.True(t, h.IsToken("crm", tok))
	assert.False(t, h.IsToken("analytics", tok), "the domain tag is checked")
	assert.False(t, h.IsToken("crm", "lucy@example.com"))
	assert.False(t, h.IsToken("crm", strings.ToUpper(tok)), "encodings are canonical")
	assert.False(t, h.IsToken("bad domain", tok))
	assert.True(t, h.RecognizesTokens("crm"))
	assert.False(t, h.RecognizesTokens(""))
}

func TestHMACBatchAndAudit(t *testing.T) {
	log := &eventLog{}
	keys := loadFixedKeys(t)
	h, err := NewHMAC(keys, HMACOptions{Audit: log})
	require.NoError(t, err)
	toks, err := h.TokenizeBatch(ctx, "crm", []string{"a@x.io", "b@x.io", "a@x.io"})
	require.NoError(t, err)
	require.Len(t, toks, 3)
	assert.Equal(t, toks[0], toks[2])
	one, err := h.Tokenize(ctx, "crm", "b@x.io")
	require.NoError(t, err)
	assert.Equal(t, one, toks[1])

	ev := log.all()
	require.Len(t, ev, 4, "one event per value")
	for _, e := range ev {
		assert.Equal(t, audit.ActionTokenize, e.Action)
		assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
		assert.Equal(t, "crm", e.Field)
		assert.Equal(t, DefaultHMACKeyset, e.KeyName)
		assert.Equal(t, keys.prfs[DefaultHMACKeyset].PrimaryID, e.KeyID)
	}

	_, err = h.TokenizeBatch(ctx, "crm", []string{"a@x.io", ""})
	require.ErrorIs(t, err, ErrInvalidValue)
	assert.Contains(t, err.Error(), "batch element 1")

	log.fail = errors.New("sink down")
	_, err = h.Tokenize(ctx, "crm", "a@x.io")
	assert.ErrorContains(t, err, "audit event was not recorded")
}

func TestHMACErrors(t *testing.T) {
	_, err := NewHMAC(nil, HMACOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewHMAC(loadFixedKeys(t), HMACOptions{Kinds: map[string]string{"crm": "no-such-kind"}})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewHMAC(loadFixedKeys(t), HMACOptions{Kinds: map[string]string{"bad domain": "email"}})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewHMAC(loadFixedKeys(t), HMACOptions{DefaultCountryCode: "044"})
	assert.ErrorIs(t, err, ErrInvalidOptions)

	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{Keyset: "missing"})
	require.NoError(t, err)
	_, err = h.Tokenize(ctx, "crm", "x")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	_, err = h.LookupTokens(ctx, "crm", "x")
	assert.ErrorIs(t, err, kms.ErrNotFound)

	h, err = NewHMAC(loadFixedKeys(t), HMACOptions{})
	require.NoError(t, err)
	_, err = h.Tokenize(ctx, "lucy@example.com", "crm")
	require.ErrorIs(t, err, ErrInvalidDomain)
	assert.NotContains(t, err.Error(), "lucy", "a malformed domain is not echoed: it may be a value")
	_, err = h.Tokenize(ctx, "crm", strings.Repeat("a", MaxValueSize+1))
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = h.LookupTokens(ctx, "crm", "")
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = h.LookupTokens(ctx, "", "x")
	assert.ErrorIs(t, err, ErrInvalidDomain)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	kr := newKeyring(t, kms.KeyringOptions{})
	h, err = NewHMAC(kr, HMACOptions{})
	require.NoError(t, err)
	require.NoError(t, kr.Close())
	_, err = h.Tokenize(cctx, "crm", "x")
	assert.ErrorIs(t, err, kms.ErrClosed)
}

// A key source whose PRF set is replaced in place must not be served from
// the old derived keys.
func TestHMACNoticesANewPRFSet(t *testing.T) {
	keys := loadFixedKeys(t)
	src := &swapKeys{set: keys.prfs[DefaultHMACKeyset]}
	h, err := NewHMAC(src, HMACOptions{})
	require.NoError(t, err)
	a, err := h.Tokenize(ctx, "crm", "v")
	require.NoError(t, err)
	src.set = keys.prfs[DefaultFPEKeyset] // another key
	b, err := h.Tokenize(ctx, "crm", "v")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

type swapKeys struct{ set *prf.Set }

func (s *swapKeys) PRF(context.Context, string) (*prf.Set, error) { return s.set, nil }

func TestHMACConcurrentUse(t *testing.T) {
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{})
	require.NoError(t, err)
	want := map[string]string{}
	for _, d := range []string{"email", "crm", "name"} {
		want[d], err = h.Tokenize(ctx, d, "lucy@example.com")
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				d := []string{"email", "crm", "name"}[(g+i)%3]
				tok, err := h.Tokenize(ctx, d, "lucy@example.com")
				if err != nil || tok != want[d] {
					errs <- fmt.Errorf("goroutine %d: got a different token (%v)", g, err)
					return
				}
				if ok, err := h.Match(ctx, d, "lucy@example.com", tok); err != nil || !ok {
					errs <- fmt.Errorf("goroutine %d: match failed (%v)", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHMACBatchMatchesOneByOne(t *testing.T) {
	h, err := NewHMAC(loadFixedKeys(t), HMACOptions{})
	require.NoError(t, err)
	for domain, vals := range map[string][]string{
		"email": {" Lucy@Example.com", "lucy@example.com", "mina@example.org"},
		"phone": {"+44 20 7946 0800", "+44 (20) 7946-0800", "+1 202 555 0142"},
		"crm":   {"x", "another value", "x"},
	} {
		batch, err := h.TokenizeBatch(ctx, domain, vals)
		require.NoError(t, err, domain)
		for i, v := range vals {
			one, err := h.Tokenize(ctx, domain, v)
			require.NoError(t, err)
			assert.Equal(t, one, batch[i], "%s value %d", domain, i)
		}
	}
	empty, err := h.TokenizeBatch(ctx, "crm", nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
	_, err = h.TokenizeBatch(ctx, "bad domain!", []string{"x"})
	require.ErrorIs(t, err, ErrInvalidDomain)
	assert.Contains(t, err.Error(), "batch element 0")
}

// TestNormalizerMatchesNormalize checks that the per-domain normaliser the
// tokenizers resolve once per kind is Normalize, kind by kind.
func TestNormalizerMatchesNormalize(t *testing.T) {
	values := []string{" Lucy@Example.com ", "020 7946 0800", "+1 202 555 0142", "4111-1111 1111 1111",
		"ab 12-cd", "::ffff:10.0.0.1", "  Zoë   Ünal ", "1990-01-02", "", "\xff"}
	for _, kind := range []string{"email", "phone", "card", "national_id", "bank_account", "postcode",
		"ip", "name", "address", "street", "city", "dob", "text", KindExact, "unknown"} {
		f := normalizer(kind, "44")
		for _, v := range values {
			want := Normalize(kind, v, "44")
			if f == nil {
				assert.Equal(t, v, want, "kind %s normalises nothing", kind)
				continue
			}
			assert.Equal(t, want, f(v), "kind %s, value %q", kind, v)
		}
	}
}

// Over a kms.Keyring, the HMAC asks for the PRF set on every call, and a
// change made through the keyring reaches it at once.
func TestHMACFollowsKeyringChangesAtOnce(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	h, err := NewHMAC(kr, HMACOptions{})
	require.NoError(t, err)
	first, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	for range 1000 {
		tok, err := h.Tokenize(ctx, "crm", "lucy@example.com")
		require.NoError(t, err)
		require.Equal(t, first, tok)
	}

	v2, err := kms.NewAdmin(kr).Rotate(ctx, DefaultHMACKeyset)
	require.NoError(t, err)
	cur, err := h.Tokenize(ctx, "crm", "lucy@example.com")
	require.NoError(t, err)
	id, _ := KeyVersion(cur)
	assert.Equal(t, v2.ID, id, "the first token after a rotation uses the new primary")

	oldID, _ := KeyVersion(first)
	ok, err := h.Match(ctx, "crm", "lucy@example.com", first)
	require.NoError(t, err)
	require.True(t, ok, "the old version still matches while it is enabled")
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultHMACKeyset, oldID))
	_, err = h.Match(ctx, "crm", "lucy@example.com", first)
	assert.ErrorIs(t, err, ErrUnknownToken, "a disabled version stops at once")

	require.NoError(t, kr.Close())
	_, err = h.Tokenize(ctx, "crm", "lucy@example.com")
	assert.ErrorIs(t, err, kms.ErrClosed, "a closed keyring stops the tokenizer")
}

// A rotation made by another process (another keyring over the same store)
// reaches the HMAC when this keyring's cache entry expires, as it reaches
// every other user of the keyring.
func TestHMACSeesAnotherProcessRotateAfterCacheMaxAge(t *testing.T) {
	store := insecuremem.NewStore()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	t.Cleanup(func() { root.Close() })
	mine, err := kms.NewKeyring(root, store, kms.KeyringOptions{CacheMaxAge: 50 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mine.Close() })
	theirs, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = theirs.Close() })
	require.NoError(t, kms.NewAdmin(mine).Ensure(ctx, DefaultHMACKeyset, kms.PurposePRF))

	h, err := NewHMAC(mine, HMACOptions{})
	require.NoError(t, err)
	for range 3 {
		_, err = h.Tokenize(ctx, "crm", "v")
		require.NoError(t, err)
	}
	v2, err := kms.NewAdmin(theirs).Rotate(ctx, DefaultHMACKeyset)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		tok, err := h.Tokenize(ctx, "crm", "v")
		id, _ := KeyVersion(tok)
		return err == nil && id == v2.ID
	}, 5*time.Second, 10*time.Millisecond)
}

// Tokens made one call at a time are each their own value, unchanged by
// the calls after them (they were once cut from shared blocks).
func TestHMACSingleCallTokensStayIntact(t *testing.T) {
	keys := loadFixedKeys(t)
	h, err := NewHMAC(keys, HMACOptions{Kinds: map[string]string{"crm": KindExact}})
	require.NoError(t, err)
	set := keys.prfs[DefaultHMACKeyset]
	key, err := set.PRFs[set.PrimaryID].ComputePRF([]byte(hmacLabel+"crm"), 32)
	require.NoError(t, err)
	const n = 43
	toks := make([]string, n)
	for i := range toks {
		toks[i], err = h.Tokenize(ctx, "crm", fmt.Sprintf("value-%d", i))
		require.NoError(t, err)
	}
	for i, tok := range toks {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(fmt.Sprintf("value-%d", i)))
		assert.True(t, strings.HasSuffix(tok, "_"+b32.EncodeToString(m.Sum(nil)[:macLen])), "token %d", i)
		assert.Len(t, tok, hmacTokenLen)
	}
}

// Tokens made while another goroutine rotates the keyset are each valid
// under the version they name.
func TestHMACConcurrentWithRotation(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	h, err := NewHMAC(kr, HMACOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 5)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprintf("g%d-%d", g, i)
				tok, err := h.Tokenize(ctx, "crm", v)
				if err == nil {
					var ok bool
					ok, err = h.Match(ctx, "crm", v, tok)
					if err == nil && !ok {
						err = errors.New("a token does not match its value")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 5 {
		_, err := kms.NewAdmin(kr).Rotate(ctx, DefaultHMACKeyset)
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
