package awskms_test

import (
	"context"
	"fmt"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

// Opening a root key by URI makes no call to AWS KMS: the key is first used
// by Wrap or Unwrap. The root key's name keeps the region, never
// credentials.
func ExampleOpener() {
	ctx := context.Background()
	var mux kms.URLMux
	mux.Register(awskms.Scheme, &awskms.Opener{})

	root, err := mux.OpenRootKey(ctx, "awskms://alias/piiguard-root?region=eu-west-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer root.Close()
	fmt.Println(root.Name())

	_, err = mux.OpenRootKey(ctx, "awskms://alias/piiguard-root?region=eu-west-1&secret_access_key=…")
	fmt.Println(piiguard.ErrorCode(err))
	// Output:
	// awskms://alias/piiguard-root?region=eu-west-1
	// invalid_argument
}

// New with an Endpoint reaches an AWS-KMS-compatible server, such as the
// local-kms server the tests of kms/awskms/localkms run against. (This
// example is compiled, not run: it needs a server; those tests run the same
// calls.)
func ExampleNew() {
	ctx := context.Background()
	d, err := awskms.New(ctx, "arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", awskms.Options{
		Region:      "eu-west-2",
		Endpoint:    "http://127.0.0.1:4599",
		Credentials: awskms.StaticCredentials("AKIAEXAMPLE", "example-secret", ""),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "awskms-example"})
	defer root.Close()

	wrapped, _ := root.Wrap(ctx, []byte("a data key"), []byte("keyset customers"))
	dataKey, _ := root.Unwrap(ctx, wrapped, []byte("keyset customers"))
	fmt.Printf("%s\n", dataKey)

	_, err = root.Unwrap(ctx, wrapped, []byte("keyset orders"))
	fmt.Println(piiguard.ErrorCode(err)) // invalid_ciphertext
}
