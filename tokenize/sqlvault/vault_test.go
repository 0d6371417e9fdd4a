package sqlvault

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

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/tokenize"
)

func TestVaultRoundTripAndIdempotence(t *testing.T) {
	v, _, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
	a, err := v.Tokenize(ctx, "email", "Lucy@Example.com")
	require.NoError(t, err)
	b, err := v.Tokenize(ctx, "email", "lucy@example.com ")
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same normalised value returns the same token")
	assert.Len(t, a, 35)
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
	v, st, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	other, err := v.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	fresh, err := v.Tokenize(ctx, "email", "fresh@example.com")
	require.NoError(t, err)

	_, err = v.Detokenize(ctx, "contact", tok)
	assert.ErrorIs(t, err, tokenize.ErrWrongDomain)
	unknown := unknownToken(t, tok)
	_, err = v.Detokenize(ctx, "email", unknown)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
	for _, bad := range []string{"", "tv1_", tok[:len(tok)-1], strings.ToUpper(tok), tok + "a", "th1" + tok[3:]} {
		_, err = v.Detokenize(ctx, "email", bad)
		assert.ErrorIs(t, err, tokenize.ErrMalformedToken, "%q", bad)
	}
	// A row whose domain differs from the token's tag (a tag collision or
	// a hand-edited row) is refused by the row's domain too.
	_, err = st.exec(ctx, `UPDATE {t} SET domain = 'contact2' WHERE token = ?`, tok)
	require.NoError(t, err)
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, tokenize.ErrWrongDomain)

	// A ciphertext moved to another row does not open.
	_, err = st.exec(ctx, `UPDATE {t} SET value = (SELECT value FROM {t} WHERE token = ?) WHERE token = ?`, tok, other)
	require.NoError(t, err)
	_, err = v.Detokenize(ctx, "contact", other)
	assert.ErrorIs(t, err, tokenize.ErrStore)

	_, err = v.TokenizeWith(ctx, "email", "x@y.z", tokenize.EntryOptions{TTL: -time.Second})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	_, err = v.Tokenize(ctx, "email", "  ")
	assert.ErrorIs(t, err, tokenize.ErrInvalidValue)
	_, err = v.Tokenize(ctx, "bad domain", "x")
	assert.ErrorIs(t, err, tokenize.ErrInvalidDomain)
	_, err = v.TokenizeWith(ctx, "email", "x@y.z", tokenize.EntryOptions{Metadata: map[string]string{"k": strings.Repeat("v", tokenize.MaxValueSize)}})
	assert.ErrorIs(t, err, tokenize.ErrInvalidValue)

	_, err = tokenize.NewVault(nil, st, tokenize.VaultOptions{})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	_, err = tokenize.NewVault(newKeyring(t), nil, tokenize.VaultOptions{})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	_, err = tokenize.NewVault(newKeyring(t), st, tokenize.VaultOptions{TTL: -1}) // a TTL is a Vault's option only
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)

	missing, err := tokenize.NewVault(newKeyring(t), st, allowAll(tokenize.VaultOptions{IndexKeyset: "missing"}))
	require.NoError(t, err)
	_, err = missing.Tokenize(ctx, "email", "x@y.z")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	missing, err = tokenize.NewVault(newKeyring(t), st, allowAll(tokenize.VaultOptions{Keyset: "missing"}))
	require.NoError(t, err)
	_, err = missing.Tokenize(ctx, "email", "new@y.z")
	assert.ErrorIs(t, err, kms.ErrNotFound)
	_, err = missing.Detokenize(ctx, "email", fresh)
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestVaultAuthorizeAndAudit(t *testing.T) {
	log := &eventLog{}
	kr := newKeyring(t)
	v, st, _ := newSQLiteVault(t, kr, tokenize.VaultOptions{Audit: log})
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	e := log.last()
	assert.Equal(t, audit.ActionTokenize, e.Action)
	assert.Equal(t, "email", e.Field)
	assert.Equal(t, tokenize.DefaultVaultKeyset, e.KeyName)
	assert.NotZero(t, e.KeyID)

	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, tokenize.ErrDenied)
	_, err = v.Lookup(ctx, "email", tok)
	assert.ErrorIs(t, err, tokenize.ErrDenied)
	_, err = v.DetokenizeBatch(ctx, "email", []string{tok})
	assert.ErrorIs(t, err, tokenize.ErrDenied)
	assert.Equal(t, "denied", log.last().Error)
	assert.Equal(t, audit.ActionDetokenize, log.last().Action)

	v, err = tokenize.NewVault(kr, st, allowAll(tokenize.VaultOptions{Audit: log}))
	require.NoError(t, err)
	log.setFail(errors.New("sink down"))
	_, err = v.Detokenize(ctx, "email", tok)
	assert.Error(t, err, "no audit record, no value")
}

func TestVaultTTLAndPurge(t *testing.T) {
	clock := newFakeClock()
	v, _, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{Clock: clock.Now, TTL: time.Hour}))
	short, err := v.TokenizeWith(ctx, "otp", "123456", tokenize.EntryOptions{TTL: time.Minute})
	require.NoError(t, err)
	long, err := v.Tokenize(ctx, "otp", "654321")
	require.NoError(t, err)

	e, err := v.Lookup(ctx, "otp", short)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(time.Minute), e.Expires)

	clock.Add(2 * time.Minute)
	_, err = v.Detokenize(ctx, "otp", short)
	assert.ErrorIs(t, err, tokenize.ErrExpiredToken)
	_, err = v.DetokenizeBatch(ctx, "otp", []string{long, short})
	assert.ErrorIs(t, err, tokenize.ErrExpiredToken)
	val, err := v.Detokenize(ctx, "otp", long)
	require.NoError(t, err)
	assert.Equal(t, "654321", val)

	fresh, err := v.Tokenize(ctx, "otp", "123456")
	require.NoError(t, err)
	assert.NotEqual(t, short, fresh, "an expired token is replaced")
	_, err = v.Detokenize(ctx, "otp", short)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken, "and removed")

	clock.Add(2 * time.Hour)
	n, err := v.PurgeExpired(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = v.Detokenize(ctx, "otp", long)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
}

func TestVaultMetadataAndEntryRedaction(t *testing.T) {
	v, _, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
	meta := map[string]string{"source": "import-2026", "ticket": "T-42"}
	tok, err := v.TokenizeWith(ctx, "email", "lucy@example.com", tokenize.EntryOptions{Metadata: meta})
	require.NoError(t, err)
	again, err := v.TokenizeWith(ctx, "email", "lucy@example.com", tokenize.EntryOptions{Metadata: map[string]string{"source": "other"}})
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
	v, _, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{Audit: log}))
	tok, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	require.NoError(t, v.Delete(ctx, "email", tok))
	assert.Equal(t, audit.ActionErase, log.last().Action)
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
	assert.ErrorIs(t, v.Delete(ctx, "email", tok), tokenize.ErrUnknownToken)
	assert.ErrorIs(t, v.Delete(ctx, "contact", tok), tokenize.ErrWrongDomain)
	assert.ErrorIs(t, v.Delete(ctx, "email", "x"), tokenize.ErrMalformedToken)

	next, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, tok, next, "a deleted token is never handed out again")

	n, err := v.Erase(ctx, "email", " LUCY@example.com")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = v.Detokenize(ctx, "email", next)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
	n, err = v.Erase(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = v.Erase(ctx, "email", "")
	assert.ErrorIs(t, err, tokenize.ErrInvalidValue)
}

func TestVaultConcurrentTokenizeMakesOneToken(t *testing.T) {
	v, st, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
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
	require.NoError(t, st.db.QueryRow(`SELECT COUNT(*) FROM piiguard_tokens`).Scan(&count))
	assert.Equal(t, 1, count)
}

// The store holds no plaintext: scan every byte of the SQLite files.
func TestVaultStoresNoPlaintext(t *testing.T) {
	v, _, dir := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
	secrets := []string{"plaintext-canary@example.com", "4111111111111111", "Lucy Westenra", "meta-canary-value"}
	for _, s := range secrets[:3] {
		_, err := v.TokenizeWith(ctx, "secret", s, tokenize.EntryOptions{Metadata: map[string]string{"note": "meta-canary-value"}})
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
	v, _, _ := newSQLiteVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{}))
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
	require.ErrorIs(t, err, tokenize.ErrMalformedToken)
	assert.Contains(t, err.Error(), "batch element 1")
	unknown := unknownToken(t, toks[0])
	_, err = v.DetokenizeBatch(ctx, "email", []string{toks[0], unknown})
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
	_, err = v.DetokenizeBatch(ctx, "bad domain", toks)
	assert.ErrorIs(t, err, tokenize.ErrInvalidDomain)
	_, err = v.TokenizeBatch(ctx, "email", []string{"a@b.c", ""})
	assert.ErrorIs(t, err, tokenize.ErrInvalidValue)
}

func TestVaultRotationAndRekey(t *testing.T) {
	kr := newKeyring(t)
	v, _, _ := newSQLiteVault(t, kr, allowAll(tokenize.VaultOptions{}))
	vals := []string{"a@x.io", "b@x.io", "c@x.io"}
	toks, err := v.TokenizeBatch(ctx, "email", vals)
	require.NoError(t, err)
	meta, err := v.TokenizeWith(ctx, "email", "m@x.io", tokenize.EntryOptions{Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	oldIx, err := kms.NewAdmin(kr).Versions(ctx, tokenize.DefaultVaultIndexKeyset)
	require.NoError(t, err)
	oldVal, err := kms.NewAdmin(kr).Versions(ctx, tokenize.DefaultVaultKeyset)
	require.NoError(t, err)

	_, err = kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultVaultIndexKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultVaultKeyset)
	require.NoError(t, err)

	again, err := v.Tokenize(ctx, "email", vals[0])
	require.NoError(t, err)
	assert.Equal(t, toks[0], again, "idempotent across a rotation: old index versions are searched too")
	got, err := v.Detokenize(ctx, "email", toks[1])
	require.NoError(t, err)
	assert.Equal(t, vals[1], got)

	st, err := v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, tokenize.RekeyStats{Scanned: 4, Rekeyed: 4}, st)
	st, err = v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, tokenize.RekeyStats{Scanned: 4}, st, "resumable: nothing left to do")

	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, tokenize.DefaultVaultIndexKeyset, oldIx[0].ID))
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, tokenize.DefaultVaultKeyset, oldVal[0].ID))
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
	kr := newKeyring(t)
	v, store, _ := newSQLiteVault(t, kr, allowAll(tokenize.VaultOptions{}))
	old, err := v.Tokenize(ctx, "email", "dup@x.io")
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultVaultIndexKeyset)
	require.NoError(t, err)
	// Simulate the race: another process, on the new index version, did not
	// see the old row and inserted its own.
	other, err := tokenize.NewVault(primaryOnly{kr}, store, allowAll(tokenize.VaultOptions{}))
	require.NoError(t, err)
	dup, err := other.Tokenize(ctx, "email", "dup@x.io")
	require.NoError(t, err)
	require.NotEqual(t, old, dup)

	st, err := v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Duplicates)
	for _, tok := range []string{old, dup} {
		got, err := v.Detokenize(ctx, "email", tok)
		require.NoError(t, err)
		assert.Equal(t, "dup@x.io", got)
	}
	n, err := v.Erase(ctx, "email", "dup@x.io")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "Erase finds both while the old index version is enabled")
}

func TestSQLStoreOptionsAndClose(t *testing.T) {
	_, err := New(nil, piiguard.SQLite, Options{})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	_, err = New(db, piiguard.Dialect(9), Options{})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	_, err = New(db, piiguard.SQLite, Options{Table: "Bad-Name"})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	_, err = OpenSQLite("", Options{})
	assert.ErrorIs(t, err, tokenize.ErrInvalidOptions)
	assert.Equal(t, "sqlite", piiguard.SQLite.String())
	assert.Equal(t, "postgres", piiguard.Postgres.String())
	assert.Equal(t, "Dialect(9)", piiguard.Dialect(9).String())

	// NoAutoMigrate: nothing is created until Migrate.
	st, err := New(db, piiguard.SQLite, Options{Table: "app_tokens", NoAutoMigrate: true})
	require.NoError(t, err)
	v, err := tokenize.NewVault(newKeyring(t), st, allowAll(tokenize.VaultOptions{}))
	require.NoError(t, err)
	_, err = v.Tokenize(ctx, "email", "x@y.z")
	assert.ErrorIs(t, err, tokenize.ErrStore)
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
	assert.ErrorIs(t, err, tokenize.ErrStore)

	// Auto-migration on first use, and cancellation.
	auto, err := New(db, piiguard.SQLite, Options{Table: "auto_tokens"})
	require.NoError(t, err)
	v, err = tokenize.NewVault(newKeyring(t), auto, allowAll(tokenize.VaultOptions{}))
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
