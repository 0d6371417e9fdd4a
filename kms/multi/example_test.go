package multi_test

import (
	"context"
	"fmt"
	"log"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/multi"
)

// A keyring over a root key held by two backends keeps working when one
// of them is down. (In-memory drivers stand in for an HSM and a cloud
// KMS; CountingDriver simulates the outage.)
func Example() {
	ctx := context.Background()
	hsm := kmstest.NewCountingDriver(insecuremem.NewDriver())
	cloud := kmstest.NewCountingDriver(insecuremem.NewDriver())
	d, err := multi.New([]multi.Backend{
		{Name: "hsm", Driver: hsm},
		{Name: "cloud", Driver: cloud},
	}, multi.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d)
	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "multi:hsm+cloud"})
	defer root.Close()

	store := insecuremem.NewStore()
	kr, _ := kms.NewKeyring(root, store, kms.KeyringOptions{})
	if _, err := kms.NewAdmin(kr).Create(ctx, "fields", kms.PurposeAEAD); err != nil {
		log.Fatal(err)
	}
	a, _ := kr.AEAD(ctx, "fields")
	ct, _ := a.Encrypt([]byte("alice@example.com"), []byte("customer/42/email"))

	// The HSM goes down. A process starting now (a new keyring, nothing
	// cached) still opens the keyset, through the cloud backend.
	hsm.SetUnavailable(true)
	fresh, _ := kms.NewKeyring(root, store, kms.KeyringOptions{})
	a, err = fresh.AEAD(ctx, "fields")
	if err != nil {
		log.Fatal(err)
	}
	pt, _ := a.Decrypt(ct, []byte("customer/42/email"))
	fmt.Println(string(pt))

	// Creating a keyset needs every backend (the default quorum), so that
	// no keyset depends on one backend alone.
	_, err = kms.NewAdmin(fresh).Create(ctx, "search", kms.PurposePRF)
	fmt.Println("create while the HSM is down:", piiguard.ErrorCode(err))
	// Output:
	// multi.Driver(backends=hsm,cloud, wrap quorum=2)
	// alice@example.com
	// create while the HSM is down: unavailable
}
