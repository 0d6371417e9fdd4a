package pkcs11_test

import (
	"context"
	"fmt"
	"log"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/pkcs11"
)

// A root key URI names the token and the key, the library, and where the
// PIN is read from — never the PIN itself.
func ExampleParseURI() {
	u, err := pkcs11.ParseURI("pkcs11:token=piiguard-test;object=root-1" +
		"?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:PIIGUARD_PKCS11_PIN&x-create=true")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token: ", u.Token)
	fmt.Println("key:   ", u.Object)
	fmt.Println("module:", u.ModulePath)
	fmt.Println("PIN:   ", u.PINSource)
	fmt.Println("create:", u.CreateKey)

	_, err = pkcs11.ParseURI("pkcs11:token=piiguard-test;object=root-1?pin-value=1234")
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// token:  piiguard-test
	// key:    root-1
	// module: /usr/lib/softhsm/libsofthsm2.so
	// PIN:    env:PIIGUARD_PKCS11_PIN
	// create: true
	// invalid_argument
}

// The PIN type never prints itself.
func ExampleNewPIN() {
	cfg := pkcs11.Config{
		ModulePath: "/usr/lib/softhsm/libsofthsm2.so",
		TokenLabel: "piiguard-test",
		KeyLabel:   "root-1",
		PIN:        pkcs11.NewPIN("1234"),
	}
	fmt.Printf("%v\n", cfg.PIN)
	fmt.Printf("%+v\n", cfg)
	// Output:
	// PIN(redacted)
	// {ModulePath:/usr/lib/softhsm/libsofthsm2.so TokenLabel:piiguard-test TokenSerial: KeyLabel:root-1 PIN:PIN(redacted) CreateKey:false MaxSessions:0}
}

// Register the opener on a URLMux, then open the root key by URI and hand
// it to a keyring. (Not run: it needs a token.)
func ExampleOpener() {
	ctx := context.Background()
	var mux kms.URLMux
	mux.Register(pkcs11.Scheme, &pkcs11.Opener{
		// Optional: the only library URIs may load.
		ModulePath: "/usr/lib/softhsm/libsofthsm2.so",
	})
	root, err := mux.OpenRootKey(ctx, "pkcs11:token=piiguard-test;object=root-1?pin-source=env:PIIGUARD_PKCS11_PIN&x-create=true")
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	_ = kr
}
