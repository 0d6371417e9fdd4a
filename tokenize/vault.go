package tokenize

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
)

// Labels of the vault's associated data and blind index.
const (
	vaultValueLabel = "piiguard/tokenize/vault/v1/value\x00"
	vaultMetaLabel  = "piiguard/tokenize/vault/v1/metadata\x00"
	vaultIndexLabel = "piiguard/tokenize/vault/v1/index\x00"
	blindIndexLen   = 32
	// maxTokenizeAttempts bounds the lookup–insert rounds of one Tokenize
	// (each lost race or expired row costs one).
	maxTokenizeAttempts = 4
)

// Vault makes vaulted tokens: random strings that stand for a value kept,
// encrypted, in a token store. A token reveals nothing about its value —
// not even equality with another domain's token — and is worthless without
// the store and the key ring. Tokenizing is idempotent: the same
// (normalised) value in one domain returns the same token, found through a
// blind index (a PRF of the value under a PRF keyset) with a unique index
// on it, not by scanning; of concurrent calls for a new value, one inserts
// and the others return its token. Tokens may expire (a TTL) and carry
// metadata; Delete and Erase remove them for erasure requests.
//
// Values and metadata are encrypted with an AEAD keyset (kms.PurposeAEAD,
// default DefaultVaultKeyset) under associated data that binds them to
// their domain and token, so a row's ciphertext moved to another row does
// not open. Tokens have the grammar "tv1_" domain-tag "_" random. A Vault is
// safe for concurrent use.
type Vault struct {
	base
	keys        VaultKeys
	store       TokenStore
	indexKeyset string
	ttl         time.Duration // VaultOptions.TTL
}

// NewVault returns a vault over store (package tokenize/sqlvault keeps
// tokens in SQLite or PostgreSQL) whose values are encrypted with the
// AEAD keyset opts.Keyset (default DefaultVaultKeyset) and indexed with
// the PRF keyset opts.IndexKeyset (default DefaultVaultIndexKeyset) of
// keys. It makes no call to keys or store.
func NewVault(keys VaultKeys, store TokenStore, opts VaultOptions) (*Vault, error) {
	b := base{kind: "vault", keyset: opts.Keyset, authz: opts.Authorize, kinds: opts.Kinds, country: opts.DefaultCountryCode, audit: opts.Audit, clock: opts.Clock}
	if err := b.init(DefaultVaultKeyset); err != nil {
		return nil, err
	}
	if opts.TTL < 0 {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "negative TTL"))
	}
	if keys == nil || store == nil {
		return nil, b.fail("new", "", errf(ErrInvalidOptions, "nil key source or store"))
	}
	ix := opts.IndexKeyset
	if ix == "" {
		ix = DefaultVaultIndexKeyset
	}
	return &Vault{base: b, keys: keys, store: store, indexKeyset: ix, ttl: opts.TTL}, nil
}

// EntryOptions are the optional parts of a vaulted token.
type EntryOptions struct {
	// TTL is how long the token lives; zero means VaultOptions.TTL. After it,
	// Detokenize fails with ErrExpiredToken, tokenizing the value again
	// makes a new token, and PurgeExpired deletes the row.
	TTL time.Duration
	// Metadata is stored with the token, encrypted like the value (it may
	// describe the value, so it is treated as sensitive), and returned by
	// Lookup.
	Metadata map[string]string
}

// now returns the current time, in whole microseconds as stores keep it.
func (v *Vault) now() time.Time { return time.UnixMicro(v.clock().UnixMicro()) }

// live reports whether a record has not expired at now.
func live(r *TokenRecord, now time.Time) bool {
	return r.Expires.IsZero() || r.Expires.After(now)
}

// storeErr makes sure an error from the store wraps ErrStore (or is the
// context's), whatever the store.
func storeErr(err error) error {
	if err == nil || errors.Is(err, ErrStore) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// indexes returns the blind indexes of a canonical value in domain under
// every enabled version of the index keyset, the primary's first, and the
// primary's ID.
func (v *Vault) indexes(ctx context.Context, domain, value string) ([][]byte, uint32, error) {
	set, err := v.keys.PRF(ctx, v.indexKeyset)
	if err != nil {
		return nil, 0, err
	}
	if set == nil {
		return nil, 0, errf(ErrKeyVersion, "keyset %q has no PRF set", v.indexKeyset)
	}
	ids := make([]uint32, 0, len(set.PRFs))
	for id := range set.PRFs {
		if id != set.PrimaryID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if _, ok := set.PRFs[set.PrimaryID]; !ok {
		return nil, 0, errf(ErrKeyVersion, "keyset %q has no enabled primary", v.indexKeyset)
	}
	ids = append([]uint32{set.PrimaryID}, ids...)
	out := make([][]byte, len(ids))
	for i, id := range ids {
		ix, err := blindIndex(set, id, domain, value)
		if err != nil {
			return nil, 0, err
		}
		out[i] = ix
	}
	return out, set.PrimaryID, nil
}

func blindIndex(set *prf.Set, id uint32, domain, value string) ([]byte, error) {
	in := make([]byte, 0, len(vaultIndexLabel)+len(domain)+1+len(value))
	in = append(in, vaultIndexLabel...)
	in = append(in, domain...)
	in = append(in, 0)
	in = append(in, value...)
	ix, err := set.PRFs[id].ComputePRF(in, blindIndexLen)
	if err != nil {
		return nil, errf(ErrKeyVersion, "blind index with version %d failed", id)
	}
	return ix, nil
}

func valueAD(domain, token string) []byte { return []byte(vaultValueLabel + domain + "\x00" + token) }
func metaAD(domain, token string) []byte  { return []byte(vaultMetaLabel + domain + "\x00" + token) }

// aeadKeyID reads the key ID of a Tink ciphertext.
func aeadKeyID(ct []byte) uint32 {
	if len(ct) < 5 {
		return 0
	}
	return binary.BigEndian.Uint32(ct[1:5])
}

// newVaultToken returns a fresh random token of domain.
func newVaultToken(domain string) (string, error) {
	var r [randomLen]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", errf(ErrStore, "random token: %v", err)
	}
	var tag [tagLen]byte
	domainTag(&tag, domain)
	b := make([]byte, 0, vaultTokenLen)
	b = append(b, vaultPrefix...)
	b = append(b, tag[:]...)
	b = append(b, '_')
	n := len(b)
	b = b[:n+b32.EncodedLen(randomLen)]
	b32.Encode(b[n:], r[:])
	return string(b), nil
}

// Tokenize returns the token of value in domain, making and storing one if
// the domain has none for it (with VaultOptions.TTL). value is normalised first
// (see VaultOptions.Kinds); Detokenize returns the normalised form.
func (v *Vault) Tokenize(ctx context.Context, domain, value string) (string, error) {
	return v.TokenizeWith(ctx, domain, value, EntryOptions{})
}

// TokenizeWith is Tokenize with a TTL and metadata for a new token. If the
// value already has a live token, that token is returned as it is: its TTL
// and metadata are not changed.
func (v *Vault) TokenizeWith(ctx context.Context, domain, value string, o EntryOptions) (string, error) {
	tok, id, err := v.tokenize(ctx, domain, value, o)
	if err := v.finish(ctx, audit.ActionTokenize, "tokenize", v.keyset, domain, id, err); err != nil {
		return "", err
	}
	return tok, nil
}

func (v *Vault) tokenize(ctx context.Context, domain, value string, o EntryOptions) (string, uint32, error) {
	if err := v.checkDomain("tokenize", domain); err != nil {
		return "", 0, err
	}
	if o.TTL < 0 {
		return "", 0, errf(ErrInvalidOptions, "negative TTL")
	}
	if o.TTL == 0 {
		o.TTL = v.ttl
	}
	val, err := v.canonical(domain, value)
	if err != nil {
		return "", 0, err
	}
	indexes, primary, err := v.indexes(ctx, domain, val)
	if err != nil {
		return "", 0, err
	}
	var meta []byte
	if o.Metadata != nil {
		if meta, err = json.Marshal(o.Metadata); err != nil {
			return "", 0, errf(ErrInvalidValue, "metadata does not encode")
		}
		if len(meta) > MaxValueSize {
			return "", 0, errf(ErrInvalidValue, "metadata is %d bytes, more than %d", len(meta), MaxValueSize)
		}
	}
	for attempt := 0; attempt < maxTokenizeAttempts; attempt++ {
		rows, err := v.store.FindByIndex(ctx, domain, indexes)
		if err != nil {
			return "", 0, storeErr(err)
		}
		if r, ok := pickRow(rows, indexes[0]); ok {
			if live(&r, v.now()) {
				return r.Token, aeadKeyID(r.Value), nil
			}
			// Expired: remove it, then make a new token.
			if _, err := v.store.Delete(ctx, domain, r.Token, v.now()); err != nil {
				return "", 0, storeErr(err)
			}
			continue
		}
		r, err := v.newRow(ctx, domain, val, meta, o.TTL, indexes[0], primary)
		if err != nil {
			return "", 0, err
		}
		inserted, err := v.store.Insert(ctx, &r)
		if err != nil {
			return "", 0, storeErr(err)
		}
		if inserted {
			return r.Token, aeadKeyID(r.Value), nil
		}
		// Another caller inserted the value first: read its token.
	}
	return "", 0, errf(ErrStore, "the value's row kept changing during %d attempts", maxTokenizeAttempts)
}

// pickRow returns the row made with the primary index if there is one,
// else any.
func pickRow(rows []TokenRecord, primary []byte) (TokenRecord, bool) {
	for _, r := range rows {
		if string(r.BlindIndex) == string(primary) {
			return r, true
		}
	}
	if len(rows) > 0 {
		return rows[0], true
	}
	return TokenRecord{}, false
}

// newRow builds the row of a new token.
func (v *Vault) newRow(ctx context.Context, domain, val string, meta []byte, ttl time.Duration, index []byte, indexKey uint32) (TokenRecord, error) {
	tok, err := newVaultToken(domain)
	if err != nil {
		return TokenRecord{}, err
	}
	a, err := v.keys.AEAD(ctx, v.keyset)
	if err != nil {
		return TokenRecord{}, err
	}
	r := TokenRecord{Token: tok, Domain: domain, BlindIndex: index, IndexKeyID: indexKey, Created: v.now()}
	if r.Value, err = a.Encrypt([]byte(val), valueAD(domain, tok)); err != nil {
		return TokenRecord{}, err
	}
	if meta != nil {
		if r.Metadata, err = a.Encrypt(meta, metaAD(domain, tok)); err != nil {
			return TokenRecord{}, err
		}
	}
	if ttl > 0 {
		r.Expires = time.UnixMicro(v.clock().Add(ttl).UnixMicro())
	}
	return r, nil
}

// TokenizeBatch tokenizes values in domain, in order, with VaultOptions.TTL. It
// fails on the first value that cannot be tokenized, saying which (by
// index); the tokens made before it stay in the store.
func (v *Vault) TokenizeBatch(ctx context.Context, domain string, values []string) ([]string, error) {
	out := make([]string, len(values))
	for i, val := range values {
		tok, err := v.Tokenize(ctx, domain, val)
		if err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = tok
	}
	return out, nil
}

// Detokenize returns the (normalised) value of a token of domain, after
// asking VaultOptions.Authorize. Errors: ErrMalformedToken, ErrWrongDomain,
// ErrUnknownToken (not in the store: never made, deleted or purged),
// ErrExpiredToken, ErrDenied, or a kms error when the value's key version
// is disabled or destroyed.
func (v *Vault) Detokenize(ctx context.Context, domain, token string) (string, error) {
	e, err := v.lookup(ctx, "detokenize", domain, token)
	if err != nil {
		return "", err
	}
	return e.value, nil
}

// Lookup returns the entry of a token of domain: its value (to Reveal),
// metadata, times and key version. It is a detokenization: asked of
// VaultOptions.Authorize and audited as one.
func (v *Vault) Lookup(ctx context.Context, domain, token string) (*Entry, error) {
	return v.lookup(ctx, "lookup", domain, token)
}

func (v *Vault) lookup(ctx context.Context, op, domain, token string) (*Entry, error) {
	var (
		e   *Entry
		err error
	)
	if err = v.checkDomain(op, domain); err == nil {
		if err = v.authorize(ctx, domain); err == nil {
			var r TokenRecord
			if r, err = v.row(ctx, domain, token); err == nil {
				e, err = v.open(ctx, r)
			}
		}
	}
	var id uint32
	if e != nil {
		id = e.KeyID
	}
	if err := v.finish(ctx, audit.ActionDetokenize, op, v.keyset, domain, id, err); err != nil {
		return nil, err
	}
	return e, nil
}

// row reads the live row of a token of domain.
func (v *Vault) row(ctx context.Context, domain, token string) (TokenRecord, error) {
	if err := v.checkToken(domain, token); err != nil {
		return TokenRecord{}, err
	}
	rows, err := v.store.Get(ctx, []string{token})
	if err != nil {
		return TokenRecord{}, storeErr(err)
	}
	r, ok := rows[token]
	return r, v.checkRow(&r, ok, domain)
}

// checkToken checks a token's grammar and domain tag.
func (v *Vault) checkToken(domain, token string) error {
	p, ok := parseMarked(token, vaultPrefix, false, vaultTokenLen, vaultTokenLen)
	if !ok || len(p.payload) != randomLen {
		return errf(ErrMalformedToken, "not a vaulted token (%q followed by a domain tag and a random part)", vaultPrefix)
	}
	if !tagMatches(p.tag, domain) {
		return errf(ErrWrongDomain, "the token's domain tag is not this domain's")
	}
	return nil
}

// checkRow checks that a row exists, is of domain and is live.
func (v *Vault) checkRow(r *TokenRecord, ok bool, domain string) error {
	switch {
	case !ok:
		return errf(ErrUnknownToken, "no such token in the store")
	case r.Domain != domain:
		return errf(ErrWrongDomain, "the token belongs to another domain")
	case !live(r, v.now()):
		return errf(ErrExpiredToken, "the token expired")
	}
	return nil
}

// open decrypts a row into an entry.
func (v *Vault) open(ctx context.Context, r TokenRecord) (*Entry, error) {
	a, err := v.keys.AEAD(ctx, v.keyset)
	if err != nil {
		return nil, err
	}
	return openRow(a, r)
}

func openRow(a tink.AEAD, r TokenRecord) (*Entry, error) {
	e := &Entry{Created: r.Created.UTC(), KeyID: aeadKeyID(r.Value)}
	if !r.Expires.IsZero() {
		e.Expires = r.Expires.UTC()
	}
	pt, err := a.Decrypt(r.Value, valueAD(r.Domain, r.Token))
	if err != nil {
		return nil, classifyRowOpen(err)
	}
	e.value = string(pt)
	if r.Metadata != nil {
		m, err := a.Decrypt(r.Metadata, metaAD(r.Domain, r.Token))
		if err != nil {
			return nil, classifyRowOpen(err)
		}
		if err := json.Unmarshal(m, &e.Metadata); err != nil {
			return nil, errf(ErrStore, "the token's metadata does not decode")
		}
	}
	return e, nil
}

// classifyRowOpen: a row that does not open was tampered with or moved (a
// store problem), unless its key version is unavailable.
func classifyRowOpen(err error) error {
	if e := classifyOpen(err); !errors.Is(e, ErrUnknownToken) {
		return e
	}
	return errf(ErrStore, "the token's row does not decrypt (tampered, moved, or encrypted under another keyset)")
}

// DetokenizeBatch detokenizes tokens of domain, in order, asking
// VaultOptions.Authorize once and reading the store once per 500 tokens. It
// fails on the first token that cannot be detokenized, saying which (by
// index).
func (v *Vault) DetokenizeBatch(ctx context.Context, domain string, tokens []string) ([]string, error) {
	if err := v.checkDomain("detokenize", domain); err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, domain); err != nil {
		return nil, v.finish(ctx, audit.ActionDetokenize, "detokenize", v.keyset, domain, 0, err)
	}
	for i, tok := range tokens {
		if err := v.checkToken(domain, tok); err != nil {
			return nil, batchErr(i, v.finish(ctx, audit.ActionDetokenize, "detokenize", v.keyset, domain, 0, err))
		}
	}
	rows, err := v.store.Get(ctx, tokens)
	if err != nil {
		return nil, v.finish(ctx, audit.ActionDetokenize, "detokenize", v.keyset, domain, 0, storeErr(err))
	}
	a, err := v.keys.AEAD(ctx, v.keyset)
	if err != nil {
		return nil, v.finish(ctx, audit.ActionDetokenize, "detokenize", v.keyset, domain, 0, err)
	}
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		r, ok := rows[tok]
		var (
			e   *Entry
			err = v.checkRow(&r, ok, domain)
			id  uint32
		)
		if err == nil {
			r.Token = tok
			if e, err = openRow(a, r); err == nil {
				id = e.KeyID
			}
		}
		if err := v.finish(ctx, audit.ActionDetokenize, "detokenize", v.keyset, domain, id, err); err != nil {
			return nil, batchErr(i, err)
		}
		out[i] = e.value
	}
	return out, nil
}

// Delete removes a token of domain from the store, for an erasure request
// or when the record that held it is deleted: from then on it fails to
// detokenize with ErrUnknownToken, and tokenizing its value makes a new
// token. It fails with ErrUnknownToken if there is no such token. It is
// audited as audit.ActionErase.
func (v *Vault) Delete(ctx context.Context, domain, token string) error {
	err := v.checkDomain("delete", domain)
	if err == nil {
		if err = v.checkToken(domain, token); err == nil {
			var ok bool
			if ok, err = v.store.Delete(ctx, domain, token, time.Time{}); err != nil {
				err = storeErr(err)
			} else if !ok {
				err = errf(ErrUnknownToken, "no such token in the store")
			}
		}
	}
	return v.finish(ctx, audit.ActionErase, "delete", v.keyset, domain, 0, err)
}

// Erase removes the token of value in domain, found through the blind
// index under every enabled version, and returns how many rows it removed
// (0 if the value had no token). It is audited as audit.ActionErase.
func (v *Vault) Erase(ctx context.Context, domain, value string) (int, error) {
	var n int
	err := v.checkDomain("erase", domain)
	if err == nil {
		var val string
		if val, err = v.canonical(domain, value); err == nil {
			var ix [][]byte
			if ix, _, err = v.indexes(ctx, domain, val); err == nil {
				n, err = v.store.DeleteByIndex(ctx, domain, ix)
				err = storeErr(err)
			}
		}
	}
	return n, v.finish(ctx, audit.ActionErase, "erase", v.keyset, domain, 0, err)
}

// PurgeExpired deletes every expired token of every domain and returns how
// many. Run it on a schedule: expired tokens already fail to detokenize,
// but their encrypted values stay in the store until purged.
func (v *Vault) PurgeExpired(ctx context.Context) (int64, error) {
	n, err := v.store.PurgeExpired(ctx, v.now())
	if err != nil {
		return n, v.fail("purge", "", storeErr(err))
	}
	return n, nil
}

// IsToken reports whether value has the grammar of a vaulted token of
// domain (without the store: it does not prove that the token exists).
func (v *Vault) IsToken(domain, value string) bool {
	return validDomain(domain) && v.checkToken(domain, value) == nil
}

// RecognizesTokens reports whether IsToken tells this tokenizer's tokens
// in domain from values (see HMAC.RecognizesTokens). It is true for
// vaulted tokens.
func (v *Vault) RecognizesTokens(domain string) bool { return validDomain(domain) }
