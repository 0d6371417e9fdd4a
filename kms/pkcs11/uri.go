package pkcs11

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Scheme is the URI scheme of PKCS#11 root keys, to register an Opener
// under on a kms.URLMux.
const Scheme = "pkcs11"

// URI is a parsed pkcs11: root key URI (see the package documentation). It
// never holds a PIN: PINSource names where the PIN is read from.
type URI struct {
	// Token is the token's label (path attribute "token"). Required.
	Token string
	// Serial is the token's serial number (path attribute "serial"), to
	// tell apart tokens with the same label. Optional.
	Serial string
	// Object is the label of the AES key (path attribute "object").
	// Required.
	Object string
	// ModulePath is the PKCS#11 library to load (query attribute
	// "module-path"), an absolute path. Optional when the Opener has one.
	ModulePath string
	// PINSource is where the user PIN is read from (query attribute
	// "pin-source"): "env:NAME" or "file:/absolute/path". Optional when the
	// Opener has a PIN.
	PINSource string
	// CreateKey makes the opener generate the key in the token if no key
	// has the label (query attribute "x-create=true").
	CreateKey bool
	// MaxSessions bounds the driver's session pool (query attribute
	// "x-max-sessions"); 0 means the default.
	MaxSessions int
}

// maxSessionsLimit bounds x-max-sessions and Config.MaxSessions.
const maxSessionsLimit = 1024

// ParseURI parses a pkcs11: root key URI. It reads nothing (no
// environment variable, no file, no token): it only checks the syntax. A
// URI that holds a PIN (pin-value), has an unknown or repeated attribute,
// or lacks token or object fails with kms.ErrInvalidArgument. Errors do
// not echo attribute values, which could be secrets pasted by mistake.
func ParseURI(s string) (*URI, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, uriErr("does not parse")
	}
	return parseURL(u)
}

func uriErr(reason string) error {
	return errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: root key URI %s", reason)
}

// parseURL parses a pkcs11: URI that url.Parse has split.
func parseURL(u *url.URL) (*URI, error) {
	switch {
	case u.Scheme != Scheme:
		return nil, uriErr(`must have the scheme "pkcs11"`)
	case u.Opaque == "":
		// pkcs11://… or pkcs11:/…: RFC 7512 URIs have no authority.
		return nil, uriErr("must be pkcs11:token=…;object=… (no //)")
	case u.User != nil:
		return nil, uriErr("must not carry user information")
	case u.Fragment != "" || u.RawFragment != "":
		return nil, uriErr("must not have a fragment")
	}
	out := &URI{}

	seen := map[string]bool{}
	for _, attr := range strings.Split(u.Opaque, ";") {
		name, raw, ok := strings.Cut(attr, "=")
		if !ok || name == "" {
			return nil, uriErr("has a path attribute that is not name=value")
		}
		if seen[name] {
			return nil, uriErr(fmt.Sprintf("has path attribute %q more than once", name))
		}
		seen[name] = true
		val, err := url.PathUnescape(raw)
		if err != nil {
			return nil, uriErr(fmt.Sprintf("has a malformed percent-encoding in path attribute %q", name))
		}
		switch name {
		case "token":
			out.Token = val
		case "object":
			out.Object = val
		case "serial":
			out.Serial = val
		case "type":
			if val != "secret-key" {
				return nil, uriErr(`has a type other than "secret-key": root keys are AES secret keys`)
			}
		case "pin-value", "pin-source":
			return nil, uriErr(fmt.Sprintf("has %s as a path attribute; PINs are never part of the URI's path", name))
		default:
			return nil, uriErr("has an unsupported path attribute (supported: token, object, serial, type)")
		}
	}

	seen = map[string]bool{}
	if u.RawQuery != "" {
		for _, attr := range strings.Split(u.RawQuery, "&") {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return nil, uriErr("has a query attribute that is not name=value")
			}
			if name == "pin-value" {
				return nil, uriErr("must not hold the PIN (pin-value): name where it is read from with pin-source=env:NAME or pin-source=file:/path")
			}
			if seen[name] {
				return nil, uriErr(fmt.Sprintf("has query attribute %q more than once", name))
			}
			seen[name] = true
			// Query values are percent-decoded as path segments: a "+"
			// stays a "+" (RFC 7512 gives it no special meaning).
			val, err := url.PathUnescape(raw)
			if err != nil {
				return nil, uriErr(fmt.Sprintf("has a malformed percent-encoding in query attribute %q", name))
			}
			switch name {
			case "module-path":
				out.ModulePath = val
			case "pin-source":
				out.PINSource = val
			case "x-create":
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, uriErr("has an x-create that is not true or false")
				}
				out.CreateKey = b
			case "x-max-sessions":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 || n > maxSessionsLimit {
					return nil, uriErr(fmt.Sprintf("has an x-max-sessions that is not a number from 1 to %d", maxSessionsLimit))
				}
				out.MaxSessions = n
			default:
				// The name is not echoed: it might be a secret pasted in.
				return nil, uriErr("has an unsupported query attribute (supported: module-path, pin-source, x-create, x-max-sessions)")
			}
		}
	}

	switch {
	case out.Token == "":
		return nil, uriErr("needs token=<token label>")
	case out.Object == "":
		return nil, uriErr("needs object=<key label>")
	case out.ModulePath != "" && !filepath.IsAbs(out.ModulePath):
		return nil, uriErr("needs an absolute module-path")
	}
	if out.PINSource != "" {
		if kind, arg, _ := strings.Cut(out.PINSource, ":"); (kind != "env" && kind != "file") || arg == "" {
			return nil, uriErr("has a pin-source that is neither env:NAME nor file:/absolute/path")
		}
	}
	return out, nil
}

// String returns the URI in canonical form: path attributes token, serial,
// object; then module-path, pin-source, x-create and x-max-sessions when
// set. It holds no secret.
func (u *URI) String() string {
	var b strings.Builder
	b.WriteString(Scheme + ":token=" + escape(u.Token))
	if u.Serial != "" {
		b.WriteString(";serial=" + escape(u.Serial))
	}
	b.WriteString(";object=" + escape(u.Object))
	var q []string
	if u.ModulePath != "" {
		q = append(q, "module-path="+escapeQuery(u.ModulePath))
	}
	if u.PINSource != "" {
		q = append(q, "pin-source="+escapeQuery(u.PINSource))
	}
	if u.CreateKey {
		q = append(q, "x-create=true")
	}
	if u.MaxSessions != 0 {
		q = append(q, "x-max-sessions="+strconv.Itoa(u.MaxSessions))
	}
	if len(q) > 0 {
		b.WriteString("?" + strings.Join(q, "&"))
	}
	return b.String()
}

// escape percent-encodes a path attribute value: everything but RFC 3986
// unreserved characters.
func escape(s string) string { return percentEncode(s, "") }

// escapeQuery percent-encodes a query attribute value, keeping "/" and ":"
// readable.
func escapeQuery(s string) string { return percentEncode(s, "/:") }

func percentEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
