package awskms

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Scheme is the URI scheme of AWS KMS root keys:
//
//	awskms://<key ID>[?region=R][&endpoint=E]
//	awskms://alias/<alias name>[?region=R][&endpoint=E]
//	awskms:///<key ARN or alias ARN>[?endpoint=E]
//
// An ARN needs the three slashes (its colons are not a host and port). The
// region of an ARN is used unless region is given. endpoint replaces the
// AWS KMS endpoint (a VPC or FIPS endpoint, or a test server). No other
// parameter is accepted: credentials come from Opener.Options or the AWS
// SDK's default chain, never from the URI.
const Scheme = "awskms"

// Opener opens Scheme URIs with Options as defaults (the URI's region and
// endpoint override Options.Region and Options.Endpoint). Register it on a
// kms.URLMux:
//
//	mux.Register(awskms.Scheme, &awskms.Opener{})
type Opener struct {
	Options Options
}

var _ kms.NameParamsOpener = (*Opener)(nil)

// NameParams says that region identifies a root key and holds no secret, so
// kms.URLMux keeps it in the root key's name. The endpoint is left out: a
// mistyped one might carry user information.
func (o *Opener) NameParams() []string { return []string{"region"} }

// OpenRootKey returns a Driver for the key u names. A URI with user
// information, a fragment, no key, or a parameter other than region and
// endpoint (each at most once) fails with kms.ErrInvalidArgument.
func (o *Opener) OpenRootKey(ctx context.Context, u *url.URL) (kms.Driver, error) {
	keyID, opts, err := o.parse(u)
	if err != nil {
		return nil, err
	}
	return New(ctx, keyID, opts)
}

func (o *Opener) parse(u *url.URL) (string, Options, error) {
	opts := o.Options
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "awskms: URI %s", reason)
	}
	switch {
	case u.User != nil:
		return "", opts, bad("must not carry user information: credentials come from the AWS SDK's default chain or Opener.Options")
	case u.Fragment != "":
		return "", opts, bad("must not have a fragment")
	case u.Opaque != "":
		return "", opts, bad("must be awskms://<key ID or alias/name> or awskms:///<ARN>")
	}
	keyID := strings.TrimPrefix(u.Host+u.Path, "/")
	if keyID == "" {
		return "", opts, bad("names no key")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", opts, bad("has a malformed query")
	}
	for k, v := range q {
		switch k {
		case "region", "endpoint":
			if len(v) != 1 || v[0] == "" {
				return "", opts, bad(fmt.Sprintf("has %s empty or more than once", k))
			}
		default:
			// The parameter's name is not echoed: it might be a secret.
			return "", opts, bad("has an unknown parameter (known: region, endpoint; credentials are never read from a URI)")
		}
	}
	if v := q.Get("region"); v != "" {
		opts.Region = v
	}
	if v := q.Get("endpoint"); v != "" {
		opts.Endpoint = v
	}
	return keyID, opts, nil
}
