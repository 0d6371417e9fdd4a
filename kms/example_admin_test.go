package kms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// A keyring is created over a root key and a store; keysets are created by
// name and purpose, and used through Tink primitives.
func ExampleAdmin_Create() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	admin := kms.NewAdmin(kr)
	v, err := admin.Create(ctx, "fields", kms.PurposeAEAD)
	if err != nil {
		log.Fatal(err)
	}
	a, err := kr.AEAD(ctx, "fields")
	if err != nil {
		log.Fatal(err)
	}
	ct, _ := a.Encrypt([]byte("alice@example.com"), []byte("customer/42/email"))
	pt, _ := a.Decrypt(ct, []byte("customer/42/email"))
	fmt.Println("version", v.Number, "primary:", v.Primary)
	fmt.Println(string(pt))
	// Output:
	// version 1 primary: true
	// alice@example.com
}

// Rotation adds a new primary; what older versions encrypted still opens.
func ExampleAdmin_Rotate() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, _ := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	admin := kms.NewAdmin(kr)
	v1, _ := admin.Create(ctx, "fields", kms.PurposeAEAD)
	a, _ := kr.AEAD(ctx, "fields")
	old, _ := a.Encrypt([]byte("before rotation"), nil)

	if _, err := admin.Rotate(ctx, "fields"); err != nil {
		log.Fatal(err)
	}
	a, _ = kr.AEAD(ctx, "fields")
	pt, _ := a.Decrypt(old, nil)
	fmt.Println(string(pt))

	// Once every record is re-encrypted, retire the old version.
	_ = admin.Disable(ctx, "fields", v1.ID)
	_, err := a.Decrypt(old, nil)
	fmt.Println("snapshot still open:", err == nil)
	a, _ = kr.AEAD(ctx, "fields")
	_, err = a.Decrypt(old, nil)
	fmt.Println(piiguard.ErrorCode(err))

	vs, _ := admin.Versions(ctx, "fields")
	for _, v := range vs {
		fmt.Println(v.Number, v.Status, v.Primary)
	}
	// Output:
	// before rotation
	// snapshot still open: true
	// disabled
	// 1 disabled false
	// 2 enabled true
}

// A backup holds every keyset still wrapped by the root key; Verify is the
// recovery drill.
func ExampleAdmin_Backup() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, _ := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	admin := kms.NewAdmin(kr)
	_, _ = admin.Create(ctx, "fields", kms.PurposeAEAD)
	_, _ = admin.Create(ctx, "search", kms.PurposePRF)
	_, _ = admin.Rotate(ctx, "fields")

	var backup bytes.Buffer
	if _, err := admin.Backup(ctx, &backup); err != nil {
		log.Fatal(err)
	}

	// Disaster: restore into a new, empty store and run the drill.
	restored, _ := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	restoredAdmin := kms.NewAdmin(restored)
	n, err := restoredAdmin.Restore(ctx, &backup, "keys-backup.json")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := restoredAdmin.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("restored %d keysets; %d versions verified\n", n, rep.Checked)
	// Output:
	// restored 2 keysets; 3 versions verified
}

// Crypto-shredding: destroying a subject's key makes everything encrypted
// with it unreadable.
func ExampleAdmin_DestroySubjectKey() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, _ := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	admin := kms.NewAdmin(kr)

	sk, _ := kr.SubjectKey(ctx, "customer-42")
	ct, _ := sk.Encrypt([]byte("+44 20 7946 0000"), []byte("phone"))
	_ = ct // stored in the database, its replicas, its backups

	if err := admin.DestroySubjectKey(ctx, "customer-42"); err != nil {
		log.Fatal(err)
	}
	_, err := kr.SubjectKey(ctx, "customer-42")
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// destroyed
}

// Finishing a rotation of the subject keyset: re-wrap every subject key
// under the new primary, then destroy the old version, which Destroy
// refuses while a subject key still depends on it.
func ExampleAdmin_RewrapSubjectKeys() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	admin := kms.NewAdmin(kr)
	for _, id := range []string{"customer-1", "customer-2", "customer-3"} {
		if _, err := kr.SubjectKey(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
	vs, _ := admin.Versions(ctx, "subjects")
	old := vs[0].ID
	if _, err := admin.Rotate(ctx, "subjects"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("destroy before the re-wrap refused:", admin.Destroy(ctx, "subjects", old) != nil)
	rep, err := admin.RewrapSubjectKeys(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("checked %d, rewrapped %d\n", rep.Checked, rep.Rewrapped)
	fmt.Println("destroy after:", admin.Destroy(ctx, "subjects", old))
	// Output:
	// destroy before the re-wrap refused: true
	// checked 3, rewrapped 3
	// destroy after: <nil>
}

// A keyset that the store held and lost is never made anew: Ensure says
// which keys are missing, and a restore from backup brings them back.
func ExampleAdmin_Ensure() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	store := insecuremem.NewStore()
	kr, _ := kms.NewKeyring(root, store, kms.KeyringOptions{})
	admin := kms.NewAdmin(kr)
	if err := admin.Ensure(ctx, "fields", kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}
	var backup bytes.Buffer
	_, _ = admin.Backup(ctx, &backup)

	_ = store.DeleteKeyset(ctx, "fields") // the keyset is lost
	err := admin.Ensure(ctx, "fields", kms.PurposeAEAD)
	fmt.Println(errors.Is(err, kms.ErrKeysMissing))

	if _, err := admin.Restore(ctx, &backup, "backup.json"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(admin.Ensure(ctx, "fields", kms.PurposeAEAD))
	// Output:
	// true
	// <nil>
}
