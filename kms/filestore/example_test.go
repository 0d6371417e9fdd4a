package filestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// A key store in a directory: a keyring over it writes one file per keyset
// and the store's manifest.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "piiguard-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := filestore.Open(filepath.Join(dir, "keys"))
	if err != nil {
		log.Fatal(err)
	}
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"}) // in production: kms/localkey or a KMS
	defer root.Close()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := kms.NewAdmin(kr).Ensure(ctx, "pii-fields", kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}
	for _, f := range []string{"keysets/pii-fields.json", "manifest.json"} {
		fi, err := os.Stat(filepath.Join(dir, "keys", f))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f, fi.Mode().Perm())
	}
	// Output:
	// keysets/pii-fields.json -rw-------
	// manifest.json -rw-------
}
