// Command hmacfpe is a program that uses only HMAC and format-preserving
// tokens. TestHMACAndFPELinkNoDatabaseDriver builds it to check that such a
// program links no database driver.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/tokenize"
)

func main() {
	ctx := context.Background()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{tokenize.DefaultHMACKeyset, tokenize.DefaultFPEKeyset} {
		if err := kms.NewAdmin(kr).Ensure(ctx, name, kms.PurposePRF); err != nil {
			log.Fatal(err)
		}
	}
	h, err := tokenize.NewHMAC(kr, tokenize.HMACOptions{})
	if err != nil {
		log.Fatal(err)
	}
	f, err := tokenize.NewFPE(kr, map[string]tokenize.Format{"card": tokenize.Card(tokenize.CardOptions{Marked: true})}, tokenize.FPEOptions{})
	if err != nil {
		log.Fatal(err)
	}
	a, err := h.Tokenize(ctx, "email", "lucy@example.com")
	if err != nil {
		log.Fatal(err)
	}
	b, err := f.Tokenize(ctx, "card", "4111111111111111")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(a), len(b))
}
