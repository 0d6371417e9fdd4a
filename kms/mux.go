package kms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/piiguard/piiguard/internal/errtext"
)

// Built-in URI schemes, known to every URLMux.
const (
	// SchemeLocal opens a root key file (LocalDriver):
	//
	//	local:///abs/path/root.key?passphrase_env=VAR[&create=true]
	//
	// The passphrase is read from the environment variable VAR, never from
	// the URI: a "passphrase" query parameter is refused. With create=true a
	// missing file is created (with DefaultKDFParams()). The path must be
	// absolute; on Windows, local:///C:/keys/root.key.
	SchemeLocal = "local"
	// SchemeInsecureMemory opens a new InsecureMemoryDriver, for tests and
	// demos: insecure-memory://anything. Every open makes a new random key,
	// even for the same URI, and nothing is persisted.
	SchemeInsecureMemory = "insecure-memory"
)

// RootKeyOpener opens the root keys of one URI scheme. Backends provide one;
// applications register it on a URLMux.
type RootKeyOpener interface {
	// OpenRootKey returns a driver for the root key u names. u.Scheme is
	// the scheme the opener was registered for. Errors wrap a sentinel of
	// this package (ErrInvalidArgument for a URI the opener cannot use) and
	// must not contain secrets from u.
	OpenRootKey(ctx context.Context, u *url.URL) (Driver, error)
}

// RootKeyOpenerFunc adapts a function to a RootKeyOpener.
type RootKeyOpenerFunc func(ctx context.Context, u *url.URL) (Driver, error)

// OpenRootKey calls f(ctx, u).
func (f RootKeyOpenerFunc) OpenRootKey(ctx context.Context, u *url.URL) (Driver, error) {
	return f(ctx, u)
}

// NameParamsOpener is a RootKeyOpener that says which query parameters
// identify its root keys and hold no secret (for example "region"). Those
// are kept in the RootKey's name; every other parameter is left out of it.
type NameParamsOpener interface {
	RootKeyOpener
	NameParams() []string
}

// URLMux maps URI schemes to RootKeyOpeners. Its zero value is ready to use
// and already opens the built-in schemes SchemeLocal and
// SchemeInsecureMemory; Register adds others. A URLMux is safe for
// concurrent use and must not be copied after first use.
type URLMux struct {
	mu      sync.RWMutex
	openers map[string]RootKeyOpener
}

// Register makes opener open the URIs of scheme. Registration is program
// setup, so Register panics if scheme is not a valid lowercase URI scheme
// (RFC 3986: a letter, then letters, digits, "+", "-", "."), if opener is
// nil, or if scheme is built in or already registered.
func (m *URLMux) Register(scheme string, opener RootKeyOpener) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("kms: URLMux.Register: invalid scheme %q", scheme))
	}
	if opener == nil {
		panic(fmt.Sprintf("kms: URLMux.Register: nil opener for scheme %q", scheme))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.openers[scheme]; dup || builtinOpener(scheme) != nil {
		panic(fmt.Sprintf("kms: URLMux.Register: scheme %q already registered", scheme))
	}
	if m.openers == nil {
		m.openers = make(map[string]RootKeyOpener)
	}
	m.openers[scheme] = opener
}

// Schemes returns the schemes m opens, built-in ones included, sorted.
func (m *URLMux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := []string{SchemeInsecureMemory, SchemeLocal}
	for k := range m.openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// OpenRootKey opens the root key uri names, with the opener registered for
// its scheme, and returns it as a RootKey (default retry options) named by
// the URI without its secrets: no user information, no fragment, and no
// query parameters except those a NameParamsOpener declares.
//
// A URI that does not parse or has no scheme fails with ErrInvalidArgument,
// a scheme nobody registered with ErrUnknownScheme. Errors name the scheme
// or the stripped URI, never the URI as given.
func (m *URLMux) OpenRootKey(ctx context.Context, uri string) (*RootKey, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, errtext.Tagged(ErrInvalidArgument, "kms: open root key: malformed URI")
	}
	if u.Scheme == "" {
		return nil, errtext.Tagged(ErrInvalidArgument, "kms: open root key: URI has no scheme")
	}
	opener := m.opener(u.Scheme)
	if opener == nil {
		return nil, fmt.Errorf("kms: open root key: %w %q (known: %s)", ErrUnknownScheme, u.Scheme, strings.Join(m.Schemes(), ", "))
	}
	var keep []string
	if np, ok := opener.(NameParamsOpener); ok {
		keep = np.NameParams()
	}
	name := rootKeyName(u, keep)
	d, err := opener.OpenRootKey(ctx, u)
	if err != nil {
		return nil, &openError{name: name, err: classify(err)}
	}
	if d == nil {
		return nil, fmt.Errorf("kms: open root key %q: opener returned no driver: %w", name, ErrBackend)
	}
	return NewRootKey(d, RootKeyOptions{Name: name}), nil
}

// openError is an opener's failure, named by the stripped URI. Openers in
// this package (and some outside) start their messages with "kms: " too;
// it is said once.
type openError struct {
	name string
	err  error
}

func (e *openError) Error() string {
	return fmt.Sprintf("kms: open root key %q: %s", e.name, strings.TrimPrefix(e.err.Error(), "kms: "))
}

func (e *openError) Unwrap() error { return e.err }

func (m *URLMux) opener(scheme string) RootKeyOpener {
	if o := builtinOpener(scheme); o != nil {
		return o
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.openers[scheme]
}

func builtinOpener(scheme string) RootKeyOpener {
	switch scheme {
	case SchemeLocal:
		return &LocalOpener{}
	case SchemeInsecureMemory:
		return RootKeyOpenerFunc(openInsecureMemory)
	}
	return nil
}

var defaultMux URLMux

// DefaultMux returns the URLMux used by OpenRootKey. Backends are not
// registered on it behind anyone's back: an application that wants a cloud
// backend there registers it itself, once, at startup.
func DefaultMux() *URLMux { return &defaultMux }

// OpenRootKey opens a root key by URI with DefaultMux; see
// URLMux.OpenRootKey.
func OpenRootKey(ctx context.Context, uri string) (*RootKey, error) {
	return defaultMux.OpenRootKey(ctx, uri)
}

// LocalOpener opens SchemeLocal URIs (see SchemeLocal) with Options. The
// zero value, with default options, is the built-in opener of every
// URLMux; a LocalOpener with other options (in tests,
// LocalOptions.InsecureFastKDFForTests) can be registered under another
// scheme.
type LocalOpener struct {
	Options LocalOptions
}

// OpenRootKey opens or creates the key file u names. A URI with a host,
// user information, a fragment, a relative path, a "passphrase" parameter,
// an unknown or repeated parameter, or no passphrase_env fails with
// ErrInvalidArgument, as does a passphrase_env naming an unset or empty
// variable.
func (o *LocalOpener) OpenRootKey(ctx context.Context, u *url.URL) (Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bad := func(reason string) error {
		return errtext.Tagged(ErrInvalidArgument, "kms: local root key URI %s", reason)
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
		d, err := CreateLocalKeyFile(path, passphrase, o.Options)
		if !errors.Is(err, ErrAlreadyExists) {
			return d, err
		}
	}
	return OpenLocalKeyFile(path, passphrase, o.Options)
}

func openInsecureMemory(ctx context.Context, _ *url.URL) (Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return NewInsecureMemoryDriver(), nil
}

// rootKeyName returns u without user information, fragment, and query
// parameters other than keep.
func rootKeyName(u *url.URL, keep []string) string {
	n := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.Opaque != "" {
		// An opaque part may carry credentials (scheme:user:secret@host).
		n.Opaque = u.Opaque[strings.LastIndexByte(u.Opaque, '@')+1:]
	}
	if len(keep) > 0 {
		q := u.Query()
		kept := url.Values{}
		for _, k := range keep {
			if v, ok := q[k]; ok {
				kept[k] = v
			}
		}
		n.RawQuery = kept.Encode()
	}
	return n.String()
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
