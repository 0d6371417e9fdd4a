package pkcs11

import (
	"context"
	"net/url"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Opener opens pkcs11: root key URIs (see the package documentation) on a
// kms.URLMux:
//
//	mux.Register(pkcs11.Scheme, &pkcs11.Opener{})
//	root, err := mux.OpenRootKey(ctx, "pkcs11:token=prod;object=root-1?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:HSM_PIN")
//
// The zero value takes everything from the URI. The fields supply what a
// URI leaves out.
type Opener struct {
	// ModulePath is the library used when a URI has no module-path. If it
	// is set, a URI naming another library is refused, so that whoever
	// writes the URI cannot make the process load a library of their
	// choosing.
	ModulePath string
	// PIN is used when a URI has no pin-source.
	PIN PIN
	// MaxSessions is used when a URI has no x-max-sessions.
	MaxSessions int
}

var _ kms.RootKeyOpener = (*Opener)(nil)

// OpenRootKey opens the key u names with Open. A URI that does not parse
// (see ParseURI), names another library than o.ModulePath, or leaves out a
// library or a PIN that o does not supply fails with kms.ErrInvalidArgument;
// a pin-source naming an unset variable or an unreadable file fails too.
// Other errors are Open's.
func (o *Opener) OpenRootKey(ctx context.Context, u *url.URL) (kms.Driver, error) {
	p, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	cfg, err := o.config(p)
	if err != nil {
		return nil, err
	}
	return Open(ctx, cfg)
}

// config turns a parsed URI into a Config, reading the PIN.
func (o *Opener) config(p *URI) (Config, error) {
	cfg := Config{
		ModulePath:  p.ModulePath,
		TokenLabel:  p.Token,
		TokenSerial: p.Serial,
		KeyLabel:    p.Object,
		CreateKey:   p.CreateKey,
		MaxSessions: p.MaxSessions,
	}
	switch {
	case cfg.ModulePath == "":
		cfg.ModulePath = o.ModulePath
	case o.ModulePath != "" && cfg.ModulePath != o.ModulePath:
		return Config{}, uriErr("names a module-path other than the one the opener allows")
	}
	if cfg.ModulePath == "" {
		return Config{}, uriErr("needs module-path=/absolute/path/to/the/pkcs11/library (or an Opener.ModulePath)")
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = o.MaxSessions
	}
	if p.PINSource != "" {
		pin, err := readPINSource(p.PINSource)
		if err != nil {
			return Config{}, err
		}
		cfg.PIN = pin
	} else {
		cfg.PIN = o.PIN
	}
	if cfg.PIN.IsZero() {
		return Config{}, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: root key URI needs pin-source=env:NAME or pin-source=file:/path (or an Opener.PIN)")
	}
	return cfg, nil
}
