package vaulttransit

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Scheme is the URI scheme of Vault Transit root keys:
//
//	vault-transit://host:port/<mount>/keys/<name>?token_env=VAR[&namespace=NS][&tls=false]
//
// for example vault-transit://vault.example:8200/transit/keys/piiguard-root?token_env=VAULT_TOKEN.
// The mount may have several segments (secrets/transit). The token is read
// from the environment variable token_env names (or comes from
// Opener.Options), never from the URI: a token parameter or user
// information is refused. namespace sets X-Vault-Namespace. Vault is
// reached over HTTPS unless tls=false (local development only).
const Scheme = "vault-transit"

// Opener opens Scheme URIs with Options as defaults (token_env and
// namespace in the URI override them). Register it on a kms.URLMux:
//
//	mux.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
type Opener struct {
	Options Options
}

var _ kms.NameParamsOpener = (*Opener)(nil)

// NameParams says that namespace and tls identify a root key and hold no
// secret, so kms.URLMux keeps them in the root key's name.
func (o *Opener) NameParams() []string { return []string{"namespace", "tls"} }

// OpenRootKey returns a Driver for the key u names. A URI with user
// information, a fragment, a path not of the form /<mount>/keys/<name>, a
// token parameter, an unknown or repeated parameter, or a token_env naming
// an unset or empty variable fails with kms.ErrInvalidArgument.
func (o *Opener) OpenRootKey(ctx context.Context, u *url.URL) (kms.Driver, error) {
	address, mount, name, opts, err := o.parse(u)
	if err != nil {
		return nil, err
	}
	return New(ctx, address, mount, name, opts)
}

func (o *Opener) parse(u *url.URL) (address, mount, name string, opts Options, err error) {
	opts = o.Options
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: URI %s", reason)
	}
	switch {
	case u.User != nil:
		return "", "", "", opts, bad("must not carry user information: name the token's environment variable with token_env")
	case u.Fragment != "":
		return "", "", "", opts, bad("must not have a fragment")
	case u.Opaque != "" || u.Host == "":
		return "", "", "", opts, bad("must be vault-transit://host:port/<mount>/keys/<name>")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-2] != "keys" {
		return "", "", "", opts, bad("must be vault-transit://host:port/<mount>/keys/<name>")
	}
	mount = strings.Join(parts[:len(parts)-2], "/")
	name = parts[len(parts)-1]

	q, perr := url.ParseQuery(u.RawQuery)
	if perr != nil {
		return "", "", "", opts, bad("has a malformed query")
	}
	for k, v := range q {
		switch k {
		case "token", "vault_token", "x-vault-token":
			return "", "", "", opts, bad("must not hold the token: put it in an environment variable and name it with token_env")
		case "token_env", "namespace", "tls":
			if len(v) != 1 || v[0] == "" {
				return "", "", "", opts, bad(fmt.Sprintf("has %s empty or more than once", k))
			}
		default:
			// The parameter's name is not echoed: it might be a secret.
			return "", "", "", opts, bad("has an unknown parameter (known: token_env, namespace, tls)")
		}
	}
	scheme := "https"
	if v := q.Get("tls"); v != "" {
		useTLS, perr := strconv.ParseBool(v)
		if perr != nil {
			return "", "", "", opts, bad("has a tls parameter that is not true or false")
		}
		if !useTLS {
			scheme = "http"
		}
	}
	if v := q.Get("token_env"); v != "" {
		opts.Token, opts.TokenEnv = "", v
	}
	if v := q.Get("namespace"); v != "" {
		opts.Namespace = v
	}
	return scheme + "://" + u.Host, mount, name, opts, nil
}
