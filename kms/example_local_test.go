package kms_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/piiguard/piiguard/kms"
)

// Create a root key file protected by a passphrase, then open it again, as
// a service does at every start.
func ExampleCreateLocalKeyFile() {
	dir, err := os.MkdirTemp("", "piiguard-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "root.key")
	passphrase := []byte("correct horse battery staple") // read it from a secret store, not from code

	// Once, at installation. The zero LocalOptions use the default argon2id
	// cost (3 passes over 64 MiB).
	created, err := kms.CreateLocalKeyFile(path, passphrase, kms.LocalOptions{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	wrapped, err := created.Wrap(ctx, []byte("a data key"), []byte("keyset=customers"))
	if err != nil {
		panic(err)
	}
	created.Close()

	// At every start.
	d, err := kms.OpenLocalKeyFile(path, passphrase, kms.LocalOptions{})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	plaintext, err := d.Unwrap(ctx, wrapped, []byte("keyset=customers"))
	fmt.Printf("unwrapped %q, err %v\n", plaintext, err)

	// The file is never overwritten, and a wrong passphrase is refused.
	_, err = kms.CreateLocalKeyFile(path, passphrase, kms.LocalOptions{})
	fmt.Println("create again:", errors.Is(err, kms.ErrAlreadyExists))
	_, err = kms.OpenLocalKeyFile(path, []byte("Tr0ub4dor&3-guess"), kms.LocalOptions{})
	fmt.Println("wrong passphrase:", errors.Is(err, kms.ErrWrongPassphrase))
	// Output:
	// unwrapped "a data key", err <nil>
	// create again: true
	// wrong passphrase: true
}

// Open a root key by URI. The passphrase comes from the environment variable
// the URI names, never from the URI itself; create=true makes the key file
// on first use.
func ExampleURLMux_OpenRootKey() {
	dir, err := os.MkdirTemp("", "piiguard-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv("PIIGUARD_ROOT_PASSPHRASE", "correct horse battery staple")
	defer os.Unsetenv("PIIGUARD_ROOT_PASSPHRASE")
	path := filepath.ToSlash(filepath.Join(dir, "root.key"))
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // Windows: local:///C:/...
	}

	var mux kms.URLMux // the zero value knows "local" and "insecure-memory"
	ctx := context.Background()
	rk, err := mux.OpenRootKey(ctx, "local://"+path+"?passphrase_env=PIIGUARD_ROOT_PASSPHRASE&create=true")
	if err != nil {
		panic(err)
	}
	defer rk.Close()
	fmt.Println("name:", strings.Replace(rk.Name(), path, "/…/root.key", 1))

	// Secrets in the URI are refused.
	_, err = mux.OpenRootKey(ctx, "local://"+path+"?passphrase=hunter2hunter2")
	fmt.Println("passphrase in URI:", errors.Is(err, kms.ErrInvalidArgument))

	// For tests and demos only: a key that lives in memory.
	demo, err := mux.OpenRootKey(ctx, "insecure-memory://demo")
	if err != nil {
		panic(err)
	}
	defer demo.Close()
	fmt.Println("name:", demo.Name())
	// Output:
	// name: local:///…/root.key
	// passphrase in URI: true
	// name: insecure-memory://demo
}
