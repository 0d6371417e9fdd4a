package sqlvault_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/tokenize"
	"github.com/piiguard/piiguard/tokenize/sqlvault"
)

// exampleKeyring returns a key ring with a vault's keysets. It keeps its
// keys in memory under a random root key: use a real backend and store in
// production.
func exampleKeyring() *kms.Keyring {
	ctx := context.Background()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := kms.NewAdmin(kr).Ensure(ctx, tokenize.DefaultVaultKeyset, kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}
	if err := kms.NewAdmin(kr).Ensure(ctx, tokenize.DefaultVaultIndexKeyset, kms.PurposePRF); err != nil {
		log.Fatal(err)
	}
	return kr
}

// OpenSQLite keeps the tokens in an SQLite file, for a single host.
func ExampleOpenSQLite() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)
	store, err := sqlvault.OpenSQLite(filepath.Join(dir, "tokens.db"), sqlvault.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	v, err := tokenize.NewVault(exampleKeyring(), store, tokenize.VaultOptions{Authorize: tokenize.AllowAll})
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := v.Tokenize(ctx, "email", "lucy@example.com")
	back, _ := v.Detokenize(ctx, "email", tok)
	fmt.Println(tok[:4], back)
	// Output: tv1_ lucy@example.com
}

// New takes a database the application opened: PostgreSQL in production
// (sql.Open("pgx", dsn), with piiguard.Postgres and a Label naming the
// database), here SQLite, with a table of the application's naming created
// by Migrate, as a role allowed to run DDL would.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlvault.New(db, piiguard.SQLite, sqlvault.Options{Table: "crm_tokens", NoAutoMigrate: true, Label: "app.db"})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	v, _ := tokenize.NewVault(exampleKeyring(), store, tokenize.VaultOptions{Authorize: tokenize.AllowAll})
	tok, _ := v.Tokenize(ctx, "email", "lucy@example.com")
	var n int
	_ = db.QueryRow(`SELECT count(*) FROM crm_tokens WHERE token = ?`, tok).Scan(&n)
	fmt.Println(n)
	// Output: 1
}
