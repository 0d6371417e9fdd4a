//go:build integration

package sqlvault

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/tokenize"
)

// These tests run against a real PostgreSQL server, started by
// scripts/integration.sh, which exports its URL in
// PIIGUARD_TEST_POSTGRES_DSN. Under the integration tag a missing server is
// a failure, never a skip. Every test gets its own table.

var (
	pgOnce sync.Once
	pgDB   *sql.DB
	pgErr  error
)

func postgresDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv("PIIGUARD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal("PIIGUARD_TEST_POSTGRES_DSN is not set: run the integration tests with scripts/integration.sh (make integration)")
	}
	pgOnce.Do(func() {
		pgDB, pgErr = sql.Open("pgx", dsn)
		if pgErr == nil {
			pgDB.SetMaxOpenConns(20)
			pgErr = pgDB.PingContext(t.Context())
		}
	})
	require.NoError(t, pgErr, "connect to PIIGUARD_TEST_POSTGRES_DSN")
	return pgDB
}

func newPostgresVault(t testing.TB, keys tokenize.VaultKeys, opts tokenize.VaultOptions) (*tokenize.Vault, *Store) {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	table := "t" + hex.EncodeToString(b) + "_tokens"
	st, err := New(postgresDB(t), piiguard.Postgres, Options{Table: table})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = postgresDB(t).Exec(`DROP TABLE IF EXISTS ` + table) })
	v, err := tokenize.NewVault(keys, st, opts)
	require.NoError(t, err)
	return v, st
}

func TestPostgresVaultRoundTrip(t *testing.T) {
	clock := newFakeClock()
	v, st := newPostgresVault(t, newKeyring(t), allowAll(tokenize.VaultOptions{Clock: clock.Now}))
	tok, err := v.TokenizeWith(ctx, "email", "Lucy@Example.com", tokenize.EntryOptions{Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	again, err := v.Tokenize(ctx, "email", "lucy@example.com")
	require.NoError(t, err)
	assert.Equal(t, tok, again)
	other, err := v.Tokenize(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, tok, other)

	got, err := v.Detokenize(ctx, "email", tok)
	require.NoError(t, err)
	assert.Equal(t, "lucy@example.com", got)
	e, err := v.Lookup(ctx, "email", tok)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, e.Metadata)
	_, err = v.Detokenize(ctx, "contact", tok)
	assert.ErrorIs(t, err, tokenize.ErrWrongDomain)
	unknown := unknownToken(t, tok)
	_, err = v.Detokenize(ctx, "email", unknown)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)

	batch, err := v.TokenizeBatch(ctx, "email", []string{"a@x.io", "b@x.io"})
	require.NoError(t, err)
	vals, err := v.DetokenizeBatch(ctx, "email", batch)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x.io", "b@x.io"}, vals)

	short, err := v.TokenizeWith(ctx, "otp", "123456", tokenize.EntryOptions{TTL: time.Minute})
	require.NoError(t, err)
	clock.Add(time.Hour)
	_, err = v.Detokenize(ctx, "otp", short)
	assert.ErrorIs(t, err, tokenize.ErrExpiredToken)
	n, err := v.PurgeExpired(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	require.NoError(t, v.Delete(ctx, "email", tok))
	_, err = v.Detokenize(ctx, "email", tok)
	assert.ErrorIs(t, err, tokenize.ErrUnknownToken)
	k, err := v.Erase(ctx, "contact", "lucy@example.com")
	require.NoError(t, err)
	assert.Equal(t, 1, k)

	// No plaintext in any column.
	for _, s := range []string{"lucy@example.com", "a@x.io", "123456"} {
		var hits int
		require.NoError(t, postgresDB(t).QueryRow(
			`SELECT count(*) FROM `+st.opts.Table+` WHERE position(convert_to($1, 'UTF8') in value) > 0
			 OR position(convert_to($1, 'UTF8') in coalesce(metadata, ''::bytea)) > 0
			 OR position(convert_to($1, 'UTF8') in blind_index) > 0 OR token = $1 OR domain = $1`, s).Scan(&hits))
		assert.Zero(t, hits, "a plaintext is stored")
	}
}

func TestPostgresVaultConcurrency(t *testing.T) {
	keys := newKeyring(t)
	v, st := newPostgresVault(t, keys, allowAll(tokenize.VaultOptions{}))
	// Several stores on one new table migrate at once.
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 4 {
		other, err := New(postgresDB(t), piiguard.Postgres, Options{Table: st.opts.Table})
		require.NoError(t, err)
		ov, err := tokenize.NewVault(keys, other, allowAll(tokenize.VaultOptions{}))
		require.NoError(t, err)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := ov.Tokenize(ctx, "email", "race@example.com")
				if err != nil {
					errs <- err
					return
				}
				errs <- nil
				_ = tok
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var count int
	require.NoError(t, postgresDB(t).QueryRow(`SELECT count(*) FROM `+st.opts.Table).Scan(&count))
	assert.Equal(t, 1, count, "concurrent callers made one token")
	tok, err := v.Tokenize(ctx, "email", "race@example.com")
	require.NoError(t, err)
	got, err := v.Detokenize(ctx, "email", tok)
	require.NoError(t, err)
	assert.Equal(t, "race@example.com", got)
}

func TestPostgresVaultRekey(t *testing.T) {
	kr := newKeyring(t)
	v, _ := newPostgresVault(t, kr, allowAll(tokenize.VaultOptions{}))
	toks, err := v.TokenizeBatch(ctx, "email", []string{"a@x.io", "b@x.io"})
	require.NoError(t, err)
	old, err := kms.NewAdmin(kr).Versions(ctx, tokenize.DefaultVaultIndexKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultVaultIndexKeyset)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Rotate(ctx, tokenize.DefaultVaultKeyset)
	require.NoError(t, err)
	stats, err := v.Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, tokenize.RekeyStats{Scanned: 2, Rekeyed: 2}, stats)
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, tokenize.DefaultVaultIndexKeyset, old[0].ID))
	again, err := v.Tokenize(ctx, "email", "a@x.io")
	require.NoError(t, err)
	assert.Equal(t, toks[0], again)
}
