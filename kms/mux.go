package kms

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/piiguard/piiguard/internal/errtext"
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

// URLMux maps URI schemes to RootKeyOpeners. Its zero value is ready to
// use and opens nothing: Register adds each scheme the application means to
// accept, as
//
//	var mux kms.URLMux
//	mux.Register(localkey.Scheme, &localkey.Opener{})
//	mux.Register(awskms.Scheme, &awskms.Opener{})
//	root, err := mux.OpenRootKey(ctx, uri)
//
// (package kms itself has no backend: each lives in a sub-package, so that
// an application links only the ones it registers). There is no global
// mux and no registration behind anyone's back. A URLMux is safe for
// concurrent use and must not be copied after first use.
type URLMux struct {
	mu      sync.RWMutex
	openers map[string]RootKeyOpener
}

// Register makes opener open the URIs of scheme. Registration is program
// setup, so Register panics if scheme is not a valid lowercase URI scheme
// (RFC 3986: a letter, then letters, digits, "+", "-", "."), if opener is
// nil, or if scheme is already registered.
func (m *URLMux) Register(scheme string, opener RootKeyOpener) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("kms: URLMux.Register: invalid scheme %q", scheme))
	}
	if opener == nil {
		panic(fmt.Sprintf("kms: URLMux.Register: nil opener for scheme %q", scheme))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.openers[scheme]; dup {
		panic(fmt.Sprintf("kms: URLMux.Register: scheme %q already registered", scheme))
	}
	if m.openers == nil {
		m.openers = make(map[string]RootKeyOpener)
	}
	m.openers[scheme] = opener
}

// Schemes returns the schemes m opens, sorted.
func (m *URLMux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := make([]string, 0, len(m.openers))
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

// openError is an opener's failure, named by the stripped URI. An opener
// whose message starts with "kms: " too has it said once.
type openError struct {
	name string
	err  error
}

func (e *openError) Error() string {
	return fmt.Sprintf("kms: open root key %q: %s", e.name, strings.TrimPrefix(e.err.Error(), "kms: "))
}

func (e *openError) Unwrap() error { return e.err }

func (m *URLMux) opener(scheme string) RootKeyOpener {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.openers[scheme]
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
