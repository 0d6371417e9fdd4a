package tokenize

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
)

func TestVaultRoundTripAndIdempotence(t *testing.T) {
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	a, err := v.Tokenize(ctx, "email", "Lucy@Example.com")
	require.NoError(t, err)
	b, err := v.Tokenize(ctx, "email", "lucy@example.com ")
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same normalised value returns the same token")
	assert.Len(t, a, vaultTokenLen)
	assert.True(t, strings.HasPrefix(a, "tv1_"))

	c, err := v.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, a, c, "each domain has its own token")
	d, err := v.Tokenize(ctx, "email", "mina@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, a, d)

	val, err := v.Detokenize(ctx, "email", a)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", val)
	assert.True(t, v.IsToken("email", a))
	assert.False(t, v.IsToken("contact", a))
	assert.False(t, v.IsToken("email", "lucy@example.com"))
	assert.True(t, v.RecognizesTokens("email"))
}

func TestVaultErrors(t *testing.T) {
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	other, err := v.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	fresh, err := v.Tokenize(ctx, "email", "fresh@example.com")
	require.NoError(t, err)

	_, err = v.Detokenize(ctx, "contact", tok)
	assert.ErrorIs(t, err, ErrWrongDomain)
	unknown, err := newVaultToken("email")
	require.NoError(t, err)
	_, err = v.Detokenize(ctx, "email", unknown)
	assert.ErrorIs(t, err, ErrUnknownToken)
	for _, bad := range []string{"", "tv1_", tok[:len(tok)-1], strings.ToUpper(tok), tok + "a", "th1" + tok[3:]} {
		_, err = v.Detokenize(ctx, "email", bad)
		assert.ErrorIs(t, err, ErrMalformedToken, "%q", bad)
	}
	// A row whose domain differs from the token's tag (a tag collision or
	// a hand-edited row) is refused by the row's domain too.
	_, err = v.store.exec(ctx, `UPDATE {t} SET domain = 'contact2' WHERE token = ?`, tok)
	require.NoError(t, err)
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrWrongDomain)

	// A ciphertext moved to another row does not open.
	_, err = v.store.exec(ctx, `UPDATE {t} SET value = (SELECT value FROM {t} WHERE token = ?) WHERE token = ?`, tok, other)
	require.NoError(t, err)
	_, err = v.Detokenize(ctx, "contact", other)
	assert.ErrorIs(t, err, ErrStore)

	_, err = v.TokenizeWith(ctx, "email", "x@y.z", EntryOptions{TTL: -time.Second})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = v.Tokenize(ctx, "email", "  ")
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = v.Tokenize(ctx, "bad domain", "x")
	assert.ErrorIs(t, err, ErrInvalidDomain)
	_, err = v.TokenizeWith(ctx, "email", "x@y.z", EntryOptions{Metadata: map[string]string{"k": strings.Repeat("v", MaxValueSize)}})
	assert.ErrorIs(t, err, ErrInvalidValue)

	_, err = NewVault(nil, v.store, Options{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewVault(loadFixedKeys(t), nil, Options{})
	assert.ErrorIs(t, err, ErrInvalidOptions)

	missing, err := NewVault(loadFixedKeys(t), v.store, allowAll(Options{IndexKeyset: "missing"}))
	require.NoError(t, err)
	_, err = missing.Tokenize(ctx, "email", "x@y.z")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	missing, err = NewVault(loadFixedKeys(t), v.store, allowAll(Options{Keyset: "missing"}))
	require.NoError(t, err)
	_, err = missing.Tokenize(ctx, "email", "new@y.z")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	_, err = missing.Detokenize(ctx, "email", fresh)
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestVaultAuthorizeAndAudit(t *testing.T) {
	log := &eventLog{}
	v, _ := newSQLiteVault(t, loadFixedKeys(t), Options{Audit: log})
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	e := log.last()
	assert.Equal(t, audit.ActionTokenize, e.Action)
	assert.Equal(t, "email", e.Field)
	assert.Equal(t, DefaultVaultKeyset, e.KeyName)
	assert.NotZero(t, e.KeyID)

	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrDenied)
	_, err = v.Lookup(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrDenied)
	_, err = v.DetokenizeBatch(ctx, "email", []string{tok})
	assert.ErrorIs(t, err, ErrDenied)
	assert.Equal(t, "denied", log.last().Error)
	assert.Equal(t, audit.ActionDetokenize, log.last().Action)

	v.opts.Authorize = AllowAll
	log.fail = errors.New("sink down")
	_, err = v.Detokenize(ctx, "email", tok)
	assert.Error(t, err, "no audit record, no value")
}

func TestVaultTTLAndPurge(t *testing.T) {
	clock := newFakeClock()
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{Clock: clock.Now, TTL: time.Hour}))
	short, err := v.TokenizeWith(ctx, "otp", "123456", EntryOptions{TTL: time.Minute})
	require.NoError(t, err)
	long, err := v.Tokenize(ctx, "otp", "654321")
	require.NoError(t, err)

	e, err := v.Lookup(ctx, "otp", short)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(time.Minute), e.Expires)

	clock.Add(2 * time.Minute)
	_, err = v.Detokenize(ctx, "otp", short)
	assert.ErrorIs(t, err, ErrExpiredToken)
	_, err = v.DetokenizeBatch(ctx, "otp", []string{long, short})
	assert.ErrorIs(t, err, ErrExpiredToken)
	val, err := v.Detokenize(ctx, "otp", long)
	require.NoError(t, err)
	assert.Equal(t, "654321", val)

	fresh, err := v.Tokenize(ctx, "otp", "123456")
	require.NoError(t, err)
	assert.NotEqual(t, short, fresh, "an expired token is replaced")
	_, err = v.Detokenize(ctx, "otp", short)
	assert.ErrorIs(t, err, ErrUnknownToken, "and removed")

	clock.Add(2 * time.Hour)
	n, err := v.PurgeExpired(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = v.Detokenize(ctx, "otp", long)
	assert.ErrorIs(t, err, ErrUnknownToken)
}

func TestVaultMetadataAndEntryRedaction(t *testing.T) {
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	meta := map[string]string{"source": "import-2026", "ticket": "T-42"}
	tok, err := v.TokenizeWith(ctx, "email", "lucy@example.com", EntryOptions{Metadata: meta})
	require.NoError(t, err)
	again, err := v.TokenizeWith(ctx, "email", "lucy@example.com", EntryOptions{Metadata: map[string]string{"source": "other"}})
	require.NoError(t, err)
	assert.Equal(t, tok, again)

	e, err := v.Lookup(ctx, "email", tok)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", e.Reveal())
	assert.Equal(t, meta, e.Metadata, "a live token keeps its first metadata")
	assert.True(t, e.Expires.IsZero())
	assert.NotZero(t, e.KeyID)

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("entry", "e", e)
	js, err := json.Marshal(e)
	require.NoError(t, err)
	for _, s := range []string{e.String(), e.GoString(), fmt.Sprintf("%v %+v %#v %s %q", e, e, e, e, e), logged.String(), string(js)} {
		assert.NotContains(t, s, "lucy")
		assert.Contains(t, s, "redacted")
	}
	assert.Contains(t, string(js), "import-2026")
}

func TestVaultDeleteAndErase(t *testing.T) {
	log := &eventLog{}
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{Audit: log}))
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	require.NoError(t, v.Delete(ctx, "email", tok))
	assert.Equal(t, audit.ActionErase, log.last().Action)
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrUnknownToken)
	assert.ErrorIs(t, v.Delete(ctx, "email", tok), ErrUnknownToken)
	assert.ErrorIs(t, v.Delete(ctx, "contact", tok), ErrWrongDomain)
	assert.ErrorIs(t, v.Delete(ctx, "email", "x"), ErrMalformedToken)

	next, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, tok, next, "a deleted token is never handed out again")

	n, err := v.Erase(ctx, "email", " LUCY@example.com")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = v.Detokenize(ctx, "email", next)
	assert.ErrorIs(t, err, ErrUnknownToken)
	n, err = v.Erase(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = v.Erase(ctx, "email", "")
	assert.ErrorIs(t, err, ErrInvalidValue)
}

func TestVaultConcurrentTokenizeMakesOneToken(t *testing.T) {
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		toks = map[string]int{}
		errs []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := v.Tokenize(ctx, "email", "race@example.com")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			toks[tok]++
			_ = i
		}()
	}
	wg.Wait()
	require.Empty(t, errs)
	assert.Len(t, toks, 1, "concurrent callers get one token")
	var count int
	require.NoError(t, v.store.db.QueryRow(`SELECT COUNT(*) FROM piiguard_tokens`).Scan(&count))
	assert.Equal(t, 1, count)
}

// The store holds no plaintext: scan every byte of the SQLite files.
func TestVaultStoresNoPlaintext(t *testing.T) {
	v, dir := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	secrets := []string{"plaintext-canary@example.com", "4111111111111111", "Lucy Westenra", "meta-canary-value"}
	for _, s := range secrets[:3] {
		_, err := v.TokenizeWith(ctx, "secret", s, EntryOptions{Metadata: map[string]string{"note": "meta-canary-value"}})
		require.NoError(t, err)
	}
	var files int
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			assert.False(t, bytes.Contains(raw, []byte(s)), "%s holds a plaintext", filepath.Base(path))
			assert.False(t, bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(s))), "%s holds a plaintext (any case)", filepath.Base(path))
		}
		return nil
	}))
	assert.GreaterOrEqual(t, files, 1)
}

func TestVaultBatch(t *testing.T) {
	v, _ := newSQLiteVault(t, loadFixedKeys(t), allowAll(Options{}))
	vals := make([]string, 1200)
	for i := range vals {
		vals[i] = fmt.Sprintf("user%04d@example.com", i)
	}
	toks, err := v.TokenizeBatch(ctx, "email", vals)
	require.NoError(t, err)
	back, err := v.DetokenizeBatch(ctx, "email", toks)
	require.NoError(t, err)
	assert.Equal(t, vals, back)

	_, err = v.DetokenizeBatch(ctx, "email", []string{toks[0], "junk"})
	require.ErrorIs(t, err, ErrMalformedToken)
	assert.Contains(t, err.Error(), "batch element 1")
	unknown, _ := newVaultToken("email")
	_, err = v.DetokenizeBatch(ctx, "email", []string{toks[0], unknown})
	assert.ErrorIs(t, err, ErrUnknownToken)
	_, err = v.DetokenizeBatch(ctx, "bad domain", toks)
	assert.ErrorIs(t, err, ErrInvalidDomain)
	_, err = v.TokenizeBatch(ctx, "email", []string{"a@b.c", ""})
	assert.ErrorIs(t, err, ErrInvalidValue)
}

func TestVaultRotationAndRekey(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	v, _ := newSQLiteVault(t, kr, allowAll(Options{}))
	vals := []string{"a@x.io", "b@x.io", "c@x.io"}
	toks, err := v.TokenizeBatch(ctx, "email", vals)
	require.NoError(t, err)
	meta, err := v.TokenizeWith(ctx, "email", "m@x.io", EntryOptions{Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	oldIx, err := kms.NewAdmin(kr).Versions(ctx, DefaultVaultIndexKeyset)
	require.NoError(t, err)
	oldVal, err := kms.NewAdmin(kr).Versions(ctx, DefaultVaultKeyset)
	require.NoError(t, err)

	_, err = kms.NewAdmin(kr).Rotate(ctx, DefaultVaultIndexKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, DefaultVaultKeyset)
	require.NoError(t, err)

	again, err := v.Tokenize(ctx, "email", vals[0])
	require.NoError(t, err)
	assert.Equal(t, toks[0], again, "idempotent across a rotation: old index versions are searched too")
	got, err := v.Detokenize(ctx, "email", toks[1])
	require.NoError(t, err)
	assert.Equal(t, vals[1], got)

	st, err := v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, RekeyStats{Scanned: 4, Rekeyed: 4}, st)
	st, err = v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, RekeyStats{Scanned: 4}, st, "resumable: nothing left to do")

	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultVaultIndexKeyset, oldIx[0].ID))
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, DefaultVaultKeyset, oldVal[0].ID))
	for i, tok := range toks {
		got, err := v.Detokenize(ctx, "email", tok)
		require.NoError(t, err)
		assert.Equal(t, vals[i], got)
		again, err := v.Tokenize(ctx, "email", vals[i])
		require.NoError(t, err)
		assert.Equal(t, tok, again, "found by the new blind index")
	}
	e, err := v.Lookup(ctx, "email", meta)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, e.Metadata)
}

func TestVaultRekeyCountsDuplicates(t *testing.T) {
	kr := newKeyring(t, kms.KeyringOptions{})
	v, _ := newSQLiteVault(t, kr, allowAll(Options{}))
	old, err := v.Tokenize(ctx, "email", "dup@x.io")
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, DefaultVaultIndexKeyset)
	require.NoError(t, err)
	// Simulate the race: another process, on the new index version, did not
	// see the old row and inserted its own.
	set, err := kr.PRF(ctx, DefaultVaultIndexKeyset)
	require.NoError(t, err)
	ix, err := blindIndex(set, set.PrimaryID, "email", "dup@x.io")
	require.NoError(t, err)
	r, err := v.newRow(ctx, "email", "dup@x.io", nil, 0, ix, set.PrimaryID)
	require.NoError(t, err)
	ok, err := v.store.insert(ctx, r)
	require.NoError(t, err)
	require.True(t, ok)

	st, err := v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Duplicates)
	for _, tok := range []string{old, r.token} {
		got, err := v.Detokenize(ctx, "email", tok)
		require.NoError(t, err)
		assert.Equal(t, "dup@x.io", got)
	}
	n, err := v.Erase(ctx, "email", "dup@x.io")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "Erase finds both while the old index version is enabled")
}

func TestSQLStoreOptionsAndClose(t *testing.T) {
	_, err := NewSQLStore(nil, SQLite, StoreOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	_, err = NewSQLStore(db, Dialect(9), StoreOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewSQLStore(db, SQLite, StoreOptions{Table: "Bad-Name"})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = OpenSQLite("", StoreOptions{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	assert.Equal(t, "sqlite", SQLite.String())
	assert.Equal(t, "postgres", Postgres.String())
	assert.Equal(t, "Dialect(9)", Dialect(9).String())

	// NoAutoMigrate: nothing is created until Migrate.
	st, err := NewSQLStore(db, SQLite, StoreOptions{Table: "app_tokens", NoAutoMigrate: true})
	require.NoError(t, err)
	v, err := NewVault(loadFixedKeys(t), st, allowAll(Options{}))
	require.NoError(t, err)
	_, err = v.Tokenize(ctx, "email", "x@y.z")
	assert.ErrorIs(t, err, ErrStore)
	assert.NotContains(t, err.Error(), "x@y.z")
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, st.Migrate(ctx), "idempotent")
	tok, err := v.Tokenize(ctx, "email", "x@y.z")
	require.NoError(t, err)

	// A store given a db does not close it.
	require.NoError(t, st.Close())
	require.NoError(t, st.Close())
	require.NoError(t, db.Ping())
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, ErrStore)

	// Auto-migration on first use, and cancellation.
	auto, err := NewSQLStore(db, SQLite, StoreOptions{Table: "auto_tokens"})
	require.NoError(t, err)
	v, err = NewVault(loadFixedKeys(t), auto, allowAll(Options{}))
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = v.Tokenize(cctx, "email", "x@y.z")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = v.Tokenize(ctx, "email", "x@y.z")
	require.NoError(t, err)
	_, err = v.PurgeExpired(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = v.Rekey(cctx)
	assert.Error(t, err)
}
