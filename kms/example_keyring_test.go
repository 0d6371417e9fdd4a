package kms_test

import (
	"context"
	"fmt"
	"log"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// A keyring over a root key and a store hands out the primitives of named
// keysets; its Admin makes them. Outside tests and demos the root key is a
// key file (kms/localkey) or a KMS or HSM, and the store a database
// (kms/sqlstore) or a directory (kms/filestore).
func ExampleNewKeyring() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer kr.Close()
	if err := kms.NewAdmin(kr).Ensure(ctx, "pii-fields", kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}

	aead, err := kr.AEAD(ctx, "pii-fields") // cached: no root key call in steady state
	if err != nil {
		log.Fatal(err)
	}
	ct, _ := aead.Encrypt([]byte("ada@example.com"), []byte("customer/42/email"))
	pt, err := aead.Decrypt(ct, []byte("customer/42/email"))
	fmt.Println(string(pt), err)
	_, err = aead.Decrypt(ct, []byte("customer/43/email"))
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// ada@example.com <nil>
	// invalid_ciphertext
}

// A URLMux opens root keys by URI with the openers registered on it; the
// zero URLMux knows none.
func ExampleURLMux() {
	var mux kms.URLMux
	mux.Register(insecuremem.Scheme, insecuremem.Opener{}) // in production: localkey, awskms, …
	root, err := mux.OpenRootKey(context.Background(), "insecure-memory://demo?token=not-in-the-name")
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	fmt.Println(root.Name())
	_, err = mux.OpenRootKey(context.Background(), "local:///var/lib/app/root.key")
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// insecure-memory://demo
	// unknown_scheme
}

// The keyring hands out the same *prf.Set until the keyset changes, and a
// new one after every change: a caller keeps what it derived from a set for
// as long as it is handed the same pointer.
func ExampleKeyring_PRF() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := kms.NewAdmin(kr).Create(ctx, "search", kms.PurposePRF); err != nil {
		log.Fatal(err)
	}
	set, err := kr.PRF(ctx, "search")
	if err != nil {
		log.Fatal(err)
	}
	again, _ := kr.PRF(ctx, "search")
	fmt.Println("unchanged keyset, same set:", again == set)
	if _, err := kms.NewAdmin(kr).Rotate(ctx, "search"); err != nil {
		log.Fatal(err)
	}
	next, _ := kr.PRF(ctx, "search")
	fmt.Println("after a rotation, a new set:", next != set)
	fmt.Println("new primary:", next.PrimaryID != set.PrimaryID)
	// Output:
	// unchanged keyset, same set: true
	// after a rotation, a new set: true
	// new primary: true
}

// A keyset record, as a store keeps it, names each version by its key ID.
func ExampleKeysetRecord_Version() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	store := insecuremem.NewStore()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	admin := kms.NewAdmin(kr)
	v1, _ := admin.Create(ctx, "fields", kms.PurposeAEAD)
	if _, err := admin.Rotate(ctx, "fields"); err != nil {
		log.Fatal(err)
	}
	rec, err := store.GetKeyset(ctx, "fields")
	if err != nil {
		log.Fatal(err)
	}
	v := rec.Version(v1.ID)
	fmt.Println("version", v.Number, v.Status, "primary:", v.Primary)
	fmt.Println("unknown key ID:", rec.Version(1) == nil)
	// Output:
	// version 1 enabled primary: false
	// unknown key ID: true
}
