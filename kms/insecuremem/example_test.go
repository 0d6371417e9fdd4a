package insecuremem_test

import (
	"context"
	"fmt"
	"log"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// A keyring for a test or a demo: its root key and its store live in
// memory, and are gone, with every key, when the process exits.
func ExampleNewStore() {
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := kms.NewAdmin(kr).Ensure(ctx, "pii-fields", kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}
	aead, err := kr.AEAD(ctx, "pii-fields")
	if err != nil {
		log.Fatal(err)
	}
	ct, _ := aead.Encrypt([]byte("demo"), nil)
	pt, _ := aead.Decrypt(ct, nil)
	fmt.Println(string(pt))
	// Output:
	// demo
}

// A Driver formats as its random key ID, never its key.
func ExampleNewDriver() {
	d := insecuremem.NewDriver()
	defer d.Close()
	fmt.Println(len(d.KeyID()), fmt.Sprintf("%x", d) == d.String())
	// Output:
	// 32 true
}
