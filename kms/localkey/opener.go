package localkey

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Scheme is the URI scheme of a local root key file:
//
//	local:///abs/path/root.key?passphrase_env=VAR[&create=true]
//
// The passphrase is read from the environment variable VAR, never from
// the URI: a "passphrase" query parameter is refused. With create=true a
// missing file is created (with DefaultKDFParams()). The path must be
// absolute; on Windows, local:///C:/keys/root.key.
const Scheme = "local"

// OpenRootKey opens the local: URI uri (see Scheme) as a kms.RootKey named
// by the URI without its query, through a kms.URLMux that knows local:
// alone — shorthand for
//
//	var mux kms.URLMux
//	mux.Register(localkey.Scheme, &localkey.Opener{})
//	root, err := mux.OpenRootKey(ctx, uri)
//
// An application whose root key may live in another backend registers
// Opener on its own URLMux beside the others'. Errors are the mux's (a URI
// of another scheme is kms.ErrUnknownScheme) and the Opener's.
func OpenRootKey(ctx context.Context, uri string) (*kms.RootKey, error) {
	var mux kms.URLMux
	mux.Register(Scheme, &Opener{})
	return mux.OpenRootKey(ctx, uri)
}

// Opener opens local: URIs (see Scheme) with Options: register it on a
// kms.URLMux as mux.Register(localkey.Scheme, &localkey.Opener{}). The zero
// value uses the default options; an Opener with other options (in tests,
// Options.InsecureFastKDFForTests) can be registered under another scheme.
type Opener struct {
	Options Options
}

// OpenRootKey opens or creates the key file u names. A URI with a host,
// user information, a fragment, a relative path, a "passphrase" parameter,
// an unknown or repeated parameter, or no passphrase_env fails with
// kms.ErrInvalidArgument, as does a passphrase_env naming an unset or empty
// variable.
func (o *Opener) OpenRootKey(ctx context.Context, u *url.URL) (kms.Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "localkey: URI %s", reason)
	}
	switch {
	case u.User != nil:
		return nil, bad("must not carry user information")
	case u.Opaque != "" || u.Host != "":
		return nil, bad("must name an absolute path, as local:///path/to/root.key")
	case u.Fragment != "":
		return nil, bad("must not have a fragment")
	}
	path := u.Path
	if runtime.GOOS == "windows" && len(path) >= 3 && path[0] == '/' && path[2] == ':' {
		path = path[1:] // local:///C:/keys/root.key
	}
	path = filepath.FromSlash(path)
	if !filepath.IsAbs(path) {
		return nil, bad("must name an absolute path, as local:///path/to/root.key")
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("has a malformed query")
	}
	for k, v := range q {
		switch k {
		case "passphrase":
			return nil, bad(`must not hold the passphrase: put it in an environment variable and name it with passphrase_env`)
		case "passphrase_env", "create":
			if len(v) != 1 {
				return nil, bad(fmt.Sprintf("has %s more than once", k))
			}
		default:
			// The name is not echoed: it might be a secret pasted in.
			return nil, bad("has an unknown parameter (known: passphrase_env, create)")
		}
	}
	create := false
	if v := q.Get("create"); v != "" {
		if create, err = strconv.ParseBool(v); err != nil {
			return nil, bad("has a create parameter that is not true or false")
		}
	}
	env := q.Get("passphrase_env")
	if env == "" {
		return nil, bad("needs passphrase_env, the name of the environment variable holding the passphrase")
	}
	secret, ok := os.LookupEnv(env)
	if !ok || secret == "" {
		return nil, bad(fmt.Sprintf("names environment variable %.64q, which is unset or empty", env))
	}
	passphrase := []byte(secret)
	defer clear(passphrase)

	if create {
		d, err := Create(path, passphrase, o.Options)
		if !errors.Is(err, kms.ErrAlreadyExists) {
			return d, err
		}
	}
	return Open(path, passphrase, o.Options)
}
