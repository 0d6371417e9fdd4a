package gcpkms_test

import (
	"context"
	"fmt"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/gcpkms"
)

// Opening a root key by URI makes no call to Cloud KMS; the key is first
// used by Wrap or Unwrap. In production the client finds Application
// Default Credentials; here the options reach the in-test gRPC server.
func ExampleOpener() {
	ctx := context.Background()
	f, err := newFakeKMS() // the in-test Cloud KMS server
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.stop()
	key, _ := f.newKey("example")

	var mux kms.URLMux
	mux.Register(gcpkms.Scheme, &gcpkms.Opener{Options: gcpkms.Options{
		ClientOptions: f.clientOptions(), // production: none (ADC)
	}})
	root, err := mux.OpenRootKey(ctx, "gcpkms://"+key)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer root.Close()
	fmt.Println(root.Name())

	wrapped, _ := root.Wrap(ctx, []byte("a data key"), []byte("keyset customers"))
	dataKey, _ := root.Unwrap(ctx, wrapped, []byte("keyset customers"))
	fmt.Printf("%s\n", dataKey)
	_, err = root.Unwrap(ctx, wrapped, []byte("keyset orders"))
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// gcpkms://projects/piiguard-test/locations/europe-west2/keyRings/piiguard/cryptoKeys/example
	// a data key
	// invalid_ciphertext
}

// A URI carries the key name only; anything else is refused.
func ExampleOpener_refused() {
	var mux kms.URLMux
	mux.Register(gcpkms.Scheme, &gcpkms.Opener{})
	_, err := mux.OpenRootKey(context.Background(), "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k?credentials=…")
	fmt.Println(piiguard.ErrorCode(err))
	// Output: invalid_argument
}
