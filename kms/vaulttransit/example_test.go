package vaulttransit_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/vaulttransit"
)

// Opening a root key by URI reads the token from the environment variable
// the URI names. Here Vault is the in-test Transit server.
func ExampleOpener() {
	ctx := context.Background()
	f := newFakeVault("transit") // the in-test Transit server
	defer f.srv.Close()
	admin, _ := vaulttransit.NewAdmin(f.srv.URL, "transit", vaulttransit.Options{Token: rootToken})
	_ = admin.CreateKey(ctx, "piiguard-root", "aes256-gcm96")
	os.Setenv("APP_VAULT_TOKEN", appToken)
	defer os.Unsetenv("APP_VAULT_TOKEN")

	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
	host := strings.TrimPrefix(f.srv.URL, "http://")
	root, err := mux.OpenRootKey(ctx, "vault-transit://"+host+"/transit/keys/piiguard-root?token_env=APP_VAULT_TOKEN&tls=false")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer root.Close()

	wrapped, _ := root.Wrap(ctx, []byte("a data key"), []byte("keyset customers"))
	version, _ := vaulttransit.KeyVersion(wrapped)
	dataKey, _ := root.Unwrap(ctx, wrapped, []byte("keyset customers"))
	fmt.Printf("%s, key version %d\n", dataKey, version)

	_, err = root.Unwrap(ctx, wrapped, []byte("keyset orders"))
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// a data key, key version 1
	// invalid_ciphertext
}

// A token in the URI is refused, and the error does not repeat it.
func ExampleOpener_tokenInURI() {
	var mux kms.URLMux
	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
	_, err := mux.OpenRootKey(context.Background(), "vault-transit://vault.example:8200/transit/keys/k?token=hvs.SECRET")
	fmt.Println(piiguard.ErrorCode(err), strings.Contains(err.Error(), "hvs.SECRET"))
	// Output: invalid_argument false
}

// Rotating the Transit key changes the version new keys are wrapped with;
// older wrapped keys keep opening until min_decryption_version passes them.
func ExampleAdmin_Rotate() {
	ctx := context.Background()
	f := newFakeVault("transit") // the in-test Transit server
	defer f.srv.Close()
	admin, _ := vaulttransit.NewAdmin(f.srv.URL, "transit", vaulttransit.Options{Token: rootToken})
	_ = admin.CreateKey(ctx, "piiguard-root", "")
	d, _ := vaulttransit.New(ctx, f.srv.URL, "transit", "piiguard-root", vaulttransit.Options{Token: appToken})
	defer d.Close()

	old, _ := d.Wrap(ctx, []byte("k1"), nil)
	_ = admin.Rotate(ctx, "piiguard-root")
	cur, _ := d.Wrap(ctx, []byte("k2"), nil)
	v1, _ := vaulttransit.KeyVersion(old)
	v2, _ := vaulttransit.KeyVersion(cur)
	fmt.Println(v1, v2)

	_ = admin.SetMinDecryptionVersion(ctx, "piiguard-root", 2)
	_, err := d.Unwrap(ctx, old, nil)
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// 1 2
	// disabled
}
