package gcpkms

import (
	"context"
	"net/url"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Scheme is the URI scheme of Cloud KMS root keys:
//
//	gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K
//
// (gcpkms:///projects/… is accepted too). The URI takes no parameters:
// credentials come from Application Default Credentials or
// Opener.Options.ClientOptions, never from the URI.
const Scheme = "gcpkms"

// Opener opens Scheme URIs with Options. Register it on a kms.URLMux:
//
//	mux.Register(gcpkms.Scheme, &gcpkms.Opener{})
//
// With Options.Client set, every root key it opens shares that client;
// otherwise each has its own, closed with it.
type Opener struct {
	Options Options
}

var _ kms.RootKeyOpener = (*Opener)(nil)

// OpenRootKey returns a Driver for the CryptoKey u names. A URI with user
// information, a query, a fragment or a malformed key name fails with
// kms.ErrInvalidArgument.
func (o *Opener) OpenRootKey(ctx context.Context, u *url.URL) (kms.Driver, error) {
	name, err := parseURI(u)
	if err != nil {
		return nil, err
	}
	return New(ctx, name, o.Options)
}

func parseURI(u *url.URL) (string, error) {
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "gcpkms: URI %s", reason)
	}
	switch {
	case u.User != nil:
		return "", bad("must not carry user information: credentials come from Application Default Credentials or Opener.Options")
	case u.RawQuery != "" || u.ForceQuery:
		return "", bad("takes no parameters (credentials are never read from a URI)")
	case u.Fragment != "":
		return "", bad("must not have a fragment")
	case u.Opaque != "":
		return "", bad("must be gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K")
	}
	name := strings.TrimPrefix(u.Host+u.Path, "/")
	if !keyNameRE.MatchString(name) {
		return "", bad("must be gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K")
	}
	return name, nil
}
