// Command quickstart is piiguard's main job on embedded defaults: a local
// root key file in a data folder and a SQLite key store, no server.
//
//	go run ./examples/quickstart [-data DIR]
//
// It creates the root key and the keysets on the first run (and reuses them
// on the next), seals a customer's e-mail address, opens it again, rotates
// the field key, and shows that what the old version sealed still opens.
//
// The root key file is protected by the passphrase in PIIGUARD_PASSPHRASE.
// Without it, quickstart uses a fixed demo passphrase and says so: never
// do that with real data.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/sqlstore"
)

// demoPassphrase protects the quickstart's root key when
// PIIGUARD_PASSPHRASE is not set. It is public: it only suits a demo.
const demoPassphrase = "quickstart demo passphrase - not for real data"

func main() {
	data := flag.String("data", "piiguard-data", "folder for the root key file and the SQLite key store")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *data); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	pass := []byte(os.Getenv("PIIGUARD_PASSPHRASE"))
	if len(pass) == 0 {
		fmt.Fprintln(out, "PIIGUARD_PASSPHRASE is not set: using the public demo passphrase (never with real data)")
		pass = []byte(demoPassphrase)
	}

	// 1. The root key: a local key file, created on the first run.
	keyPath := filepath.Join(dataDir, "root.key")
	drv, err := kms.OpenLocalKeyFile(keyPath, pass, kms.LocalOptions{})
	if os.IsNotExist(err) || kms.ErrorCode(err) == kms.CodeNotFound {
		fmt.Fprintf(out, "creating root key file %s (argon2id + AES-256-GCM)\n", keyPath)
		drv, err = kms.CreateLocalKeyFile(keyPath, pass, kms.LocalOptions{})
	}
	if err != nil {
		return err
	}
	root := kms.NewRootKey(drv, kms.RootKeyOptions{Name: "local:" + keyPath})
	defer root.Close()

	// 2. The key store: SQLite, embedded.
	store, err := sqlstore.OpenSQLite(filepath.Join(dataDir, "keys.db"))
	if err != nil {
		return err
	}
	defer store.Close()

	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	if err != nil {
		return err
	}
	defer kr.Close()

	// 3. Keysets: one for field encryption, one for search indexes.
	for name, p := range map[string]kms.Purpose{"pii-fields": kms.PurposeAEAD, "pii-search": kms.PurposePRF} {
		if err := kr.Ensure(ctx, name, p); err != nil {
			return err
		}
	}
	printVersions(ctx, out, kr, "pii-fields")

	// 4. Seal a value, bound to its place (record type, field, record ID).
	a, err := kr.AEAD(ctx, "pii-fields")
	if err != nil {
		return err
	}
	ad := []byte("Customer/Email/cust-42")
	sealed, err := a.Encrypt([]byte("lovelace@example.com"), ad)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed e-mail: %d bytes of ciphertext under key ID %d\n", len(sealed), keyID(sealed))
	opened, err := a.Decrypt(sealed, ad)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "opened e-mail: %s\n", opened)
	if _, err := a.Decrypt(sealed, []byte("Customer/Email/cust-43")); err != nil {
		fmt.Fprintf(out, "the same ciphertext copied to another row does not open: %v\n", kms.ErrorCode(err))
	}

	// 5. Rotate the field key: new values use the new version, old ones
	// still open.
	v, err := kr.Rotate(ctx, "pii-fields")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rotated pii-fields: version %d (key ID %d) is now primary\n", v.Number, v.ID)
	a, err = kr.AEAD(ctx, "pii-fields")
	if err != nil {
		return err
	}
	again, err := a.Decrypt(sealed, ad)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "the value sealed before the rotation still opens: %s\n", again)
	printVersions(ctx, out, kr, "pii-fields")

	// 6. The recovery drill.
	rep, err := kr.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d keysets, %d key versions open their canaries\n", rep.Keysets, rep.Checked)
	return nil
}

func printVersions(ctx context.Context, out io.Writer, kr *kms.Keyring, name string) {
	vs, err := kr.Versions(ctx, name)
	if err != nil {
		fmt.Fprintf(out, "versions of %s: %v\n", name, err)
		return
	}
	for _, v := range vs {
		primary := ""
		if v.Primary {
			primary = " (primary)"
		}
		fmt.Fprintf(out, "  %s v%d  id=%d  %s  created %s%s\n", name, v.Number, v.ID, v.Status, v.Created.Format("2006-01-02 15:04:05"), primary)
	}
}

// keyID reads the key ID Tink writes after the first byte of a ciphertext.
func keyID(ct []byte) uint32 {
	if len(ct) < 5 {
		return 0
	}
	return uint32(ct[1])<<24 | uint32(ct[2])<<16 | uint32(ct[3])<<8 | uint32(ct[4])
}
