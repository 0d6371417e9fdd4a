package localkey_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/localkey"
)

// Create a root key file protected by a passphrase, then open it again, as
// a service does at every start.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "piiguard-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "root.key")
	passphrase := []byte("correct horse battery staple") // read it from a secret store, not from code

	// Once, at installation. The zero Options use the default argon2id
	// cost (3 passes over 64 MiB).
	created, err := localkey.Create(path, passphrase, localkey.Options{})
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
	d, err := localkey.Open(path, passphrase, localkey.Options{})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	plaintext, err := d.Unwrap(ctx, wrapped, []byte("keyset=customers"))
	fmt.Printf("unwrapped %q, err %v\n", plaintext, err)

	// The file is never overwritten, and a wrong passphrase is refused.
	_, err = localkey.Create(path, passphrase, localkey.Options{})
	fmt.Println("create again:", errors.Is(err, kms.ErrAlreadyExists))
	_, err = localkey.Open(path, []byte("Tr0ub4dor&3-guess"), localkey.Options{})
	fmt.Println("wrong passphrase:", errors.Is(err, kms.ErrWrongPassphrase))
	// Output:
	// unwrapped "a data key", err <nil>
	// create again: true
	// wrong passphrase: true
}

// Open a root key by URI. The passphrase comes from the environment variable
// the URI names, never from the URI itself; create=true makes the key file
// on first use.
func ExampleOpenRootKey() {
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

	ctx := context.Background()
	rk, err := localkey.OpenRootKey(ctx, "local://"+path+"?passphrase_env=PIIGUARD_ROOT_PASSPHRASE&create=true")
	if err != nil {
		panic(err)
	}
	defer rk.Close()
	fmt.Println("name:", strings.Replace(rk.Name(), path, "/…/root.key", 1))

	// Secrets in the URI are refused.
	_, err = localkey.OpenRootKey(ctx, "local://"+path+"?passphrase=hunter2hunter2")
	fmt.Println("passphrase in URI:", errors.Is(err, kms.ErrInvalidArgument))
	// Output:
	// name: local:///…/root.key
	// passphrase in URI: true
}

// An application whose root key may live in several backends registers
// each on a URLMux of its own: the zero URLMux knows no scheme.
func ExampleOpener() {
	var mux kms.URLMux
	mux.Register(localkey.Scheme, &localkey.Opener{})
	mux.Register(insecuremem.Scheme, insecuremem.Opener{}) // tests and demos only: a key that lives in memory
	fmt.Println("schemes:", mux.Schemes())

	_, err := mux.OpenRootKey(context.Background(), "local:///var/lib/app/root.key?passphrase_env=PIIGUARD_EXAMPLE_UNSET")
	fmt.Println("unset passphrase variable:", errors.Is(err, kms.ErrInvalidArgument))
	_, err = mux.OpenRootKey(context.Background(), "awskms://alias/app")
	fmt.Println("not registered:", errors.Is(err, kms.ErrUnknownScheme))
	// Output:
	// schemes: [insecure-memory local]
	// unset passphrase variable: true
	// not registered: true
}

// A command-line tool checks a new passphrase before it asks for it a
// second time; the error says which rule failed, never the passphrase.
func ExampleCheckPassphrase() {
	fmt.Println(localkey.CheckPassphrase([]byte("correct horse battery staple")))
	fmt.Println(localkey.CheckPassphrase([]byte("changeme")))
	// Output:
	// <nil>
	// localkey: passphrase refused: fewer than 12 characters: weak passphrase
}
