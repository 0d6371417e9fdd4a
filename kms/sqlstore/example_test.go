package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// A Store is usually handed to a kms.Keyring; here it is used directly to
// show the compare-and-swap that keeps concurrent rotations safe.
func ExampleOpenSQLite() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlstore.OpenSQLite(filepath.Join(dir, "keys.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	rec := &kms.KeysetRecord{Name: "customers", Purpose: kms.PurposeAEAD, RootKey: "local://root"}
	if err := store.PutKeyset(ctx, rec); err != nil { // Revision 0: create
		log.Fatal(err)
	}
	fmt.Println("created at revision", rec.Revision)

	// Two writers read revision 1; the first to write wins.
	a, _ := store.GetKeyset(ctx, "customers")
	b, _ := store.GetKeyset(ctx, "customers")
	a.Versions = append(a.Versions, kms.VersionRecord{ID: 1, Number: 1, Status: kms.StatusEnabled, Primary: true})
	fmt.Println("writer a:", store.PutKeyset(ctx, a), "revision", a.Revision)
	err = store.PutKeyset(ctx, b)
	fmt.Println("writer b conflicts:", errors.Is(err, kms.ErrConflict))

	_, err = store.GetSubjectKey(ctx, "customer-42")
	fmt.Println("no subject key yet:", errors.Is(err, kms.ErrNotFound))
	// Output:
	// created at revision 1
	// writer a: <nil> revision 2
	// writer b conflicts: true
	// no subject key yet: true
}

// A Store over a PostgreSQL pool names its database in errors when given a
// label; PostgresLabel makes one from the connection string without its
// user, password or parameters.
func ExamplePostgresLabel() {
	dsn := "postgres://app:s3cret@db.example.com:5432/customers?sslmode=verify-full"
	fmt.Println(sqlstore.PostgresLabel(dsn))
	fmt.Println(sqlstore.PostgresLabel("host=db.example.com dbname=customers password=s3cret"))
	// A Store would be made with:
	//	db, err := sql.Open("pgx", dsn)
	//	store, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{Label: sqlstore.PostgresLabel(dsn)})
	// Output:
	// db.example.com:5432/customers
	// db.example.com/customers
}
