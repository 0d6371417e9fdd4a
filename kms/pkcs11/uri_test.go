package pkcs11

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want URI
	}{
		{
			"pkcs11:token=piiguard-test;object=root-1?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:PIIGUARD_PKCS11_PIN",
			URI{Token: "piiguard-test", Object: "root-1", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "env:PIIGUARD_PKCS11_PIN"},
		},
		{"pkcs11:object=k;token=t", URI{Token: "t", Object: "k"}},
		{
			"pkcs11:token=My%20Token;serial=7b9547a6c905f849;object=root%3B1;type=secret-key?x-create=true&x-max-sessions=16&pin-source=file:/run/secrets/hsm-pin",
			URI{Token: "My Token", Serial: "7b9547a6c905f849", Object: "root;1", PINSource: "file:/run/secrets/hsm-pin", CreateKey: true, MaxSessions: 16},
		},
		{"pkcs11:token=a+b;object=c?module-path=/opt/lib+x/p11.so", URI{Token: "a+b", Object: "c", ModulePath: "/opt/lib+x/p11.so"}},
		{"pkcs11:token=t;object=k?x-create=false", URI{Token: "t", Object: "k"}},
	} {
		got, err := ParseURI(tc.uri)
		require.NoError(t, err, tc.uri)
		assert.Equal(t, tc.want, *got, tc.uri)
		again, err := ParseURI(got.String())
		require.NoError(t, err, "String of %s: %s", tc.uri, got.String())
		assert.Equal(t, *got, *again, "String and ParseURI round-trip %s", tc.uri)
	}
}

func TestParseURIRefusesBadURIs(t *testing.T) {
	for _, tc := range []struct{ uri, because string }{
		{"pkcs11:token=t;object=k?pin-value=1234", "a PIN in the URI"},
		{"pkcs11:token=t;object=k;pin-value=1234", "a PIN in the path"},
		{"pkcs11:token=t;object=k;pin-source=env:X", "pin-source in the path"},
		{"pkcs11:token=t;object=k?module-path=/a&module-path=/b", "a repeated query attribute"},
		{"pkcs11:token=t;token=u;object=k", "a repeated path attribute"},
		{"pkcs11:object=k", "no token"},
		{"pkcs11:token=t", "no object"},
		{"pkcs11:token=t;object=", "an empty object"},
		{"pkcs11:token=t;object=k;type=private", "a key type other than secret-key"},
		{"pkcs11:token=t;object=k;id=%01", "an unsupported path attribute"},
		{"pkcs11:token=t;object=k?module-name=softhsm2", "an unsupported query attribute"},
		{"pkcs11:token=t;object=k?module-path=libsofthsm2.so", "a relative module path"},
		{"pkcs11:token=t;object=k?pin-source=secret", "a pin-source of no kind"},
		{"pkcs11:token=t;object=k?pin-source=http://x/pin", "a pin-source of another kind"},
		{"pkcs11:token=t;object=k?x-create=maybe", "x-create not a boolean"},
		{"pkcs11:token=t;object=k?x-max-sessions=0", "x-max-sessions below 1"},
		{"pkcs11:token=t;object=k?x-max-sessions=5000", "x-max-sessions above the limit"},
		{"pkcs11:token=t;object=k#frag", "a fragment"},
		{"pkcs11://token=t;object=k", "an authority"},
		{"pkcs11:token=t;object=%zz", "a bad percent-encoding"},
		{"pkcs11:token=t;;object=k", "an empty attribute"},
		{"pkcs11:token=t;object=k?flag", "a query attribute without a value"},
		{"local:token=t;object=k", "another scheme"},
		{"::", "no parse"},
	} {
		_, err := ParseURI(tc.uri)
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, "%s (%s)", tc.uri, tc.because)
	}
}

func TestParseURIErrorsDoNotEchoValues(t *testing.T) {
	const secret = "hunter2-S3CRET"
	for _, uri := range []string{
		"pkcs11:token=t;object=k?pin-value=" + secret,
		"pkcs11:token=t;object=k?" + secret + "=1",
		"pkcs11:token=t;object=k;" + secret + "=1",
		"pkcs11:token=t;object=k?x-create=" + secret,
		"pkcs11:token=t;object=k?pin-source=" + secret,
		"pkcs11:token=t;object=k?x-max-sessions=" + secret,
	} {
		_, err := ParseURI(uri)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret, uri)
	}
}

func TestOpenerConfigReadsThePINFromTheEnvironmentOrAFile(t *testing.T) {
	const pin = "pin-from-env-123"
	t.Setenv("PIIGUARD_UNIT_PIN", pin)
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("pin-from-file-456\r\n"), 0o600))

	parse := func(s string) *URI {
		u, err := ParseURI(s)
		require.NoError(t, err)
		return u
	}
	o := &Opener{}
	cfg, err := o.config(parse("pkcs11:token=t;object=k?module-path=/lib/p11.so&pin-source=env:PIIGUARD_UNIT_PIN&x-create=true"))
	require.NoError(t, err)
	assert.Equal(t, pin, cfg.PIN.Reveal())
	assert.Equal(t, Config{ModulePath: "/lib/p11.so", TokenLabel: "t", KeyLabel: "k", PIN: NewPIN(pin), CreateKey: true}, cfg)

	cfg, err = o.config(parse("pkcs11:token=t;object=k?module-path=/lib/p11.so&pin-source=file:" + pinFile))
	require.NoError(t, err)
	assert.Equal(t, "pin-from-file-456", cfg.PIN.Reveal(), "one trailing newline is dropped")
	cfg, err = o.config(parse("pkcs11:token=t;object=k?module-path=/lib/p11.so&pin-source=file://" + pinFile))
	require.NoError(t, err)
	assert.Equal(t, "pin-from-file-456", cfg.PIN.Reveal(), "file:///path works too")

	// The opener supplies what the URI leaves out.
	o = &Opener{ModulePath: "/lib/p11.so", PIN: NewPIN("opener-pin"), MaxSessions: 3}
	cfg, err = o.config(parse("pkcs11:token=t;object=k"))
	require.NoError(t, err)
	assert.Equal(t, "/lib/p11.so", cfg.ModulePath)
	assert.Equal(t, "opener-pin", cfg.PIN.Reveal())
	assert.Equal(t, 3, cfg.MaxSessions)
	cfg, err = o.config(parse("pkcs11:token=t;object=k?pin-source=env:PIIGUARD_UNIT_PIN&x-max-sessions=5"))
	require.NoError(t, err)
	assert.Equal(t, pin, cfg.PIN.Reveal(), "the URI's pin-source wins")
	assert.Equal(t, 5, cfg.MaxSessions)
}

func TestOpenerConfigRefuses(t *testing.T) {
	parse := func(s string) *URI {
		u, err := ParseURI(s)
		require.NoError(t, err)
		return u
	}
	t.Setenv("PIIGUARD_UNIT_EMPTY_PIN", "")
	for _, tc := range []struct {
		o       Opener
		uri     string
		want    error
		because string
	}{
		{Opener{}, "pkcs11:token=t;object=k?pin-source=env:X", kms.ErrInvalidArgument, "no module path anywhere"},
		{Opener{PIN: NewPIN("p")}, "pkcs11:token=t;object=k", kms.ErrInvalidArgument, "no module path anywhere (PIN from the opener)"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k", kms.ErrInvalidArgument, "no PIN anywhere"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k?module-path=/tmp/other.so&pin-source=env:X", kms.ErrInvalidArgument, "a module the opener does not allow"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k?pin-source=env:PIIGUARD_UNIT_UNSET_PIN", kms.ErrInvalidArgument, "an unset variable"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k?pin-source=env:PIIGUARD_UNIT_EMPTY_PIN", kms.ErrInvalidArgument, "an empty variable"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k?pin-source=file:/nonexistent/pin", kms.ErrNotFound, "a missing PIN file"},
		{Opener{ModulePath: "/lib/a.so"}, "pkcs11:token=t;object=k?pin-source=file:relative/pin", kms.ErrInvalidArgument, "a relative PIN file"},
	} {
		_, err := tc.o.config(parse(tc.uri))
		assert.ErrorIs(t, err, tc.want, tc.because)
	}

	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, err := (&Opener{ModulePath: "/lib/a.so"}).config(parse("pkcs11:token=t;object=k?pin-source=file:" + empty))
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "an empty PIN file")
}

func TestOpenerThroughTheMuxRefusesBeforeLoadingAnything(t *testing.T) {
	var mux kms.URLMux
	mux.Register(Scheme, &Opener{})
	_, err := mux.OpenRootKey(t.Context(), "pkcs11:token=t;object=k?module-path=/lib/p11.so&pin-value=1234")
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.NotContains(t, err.Error(), "1234")

	t.Setenv("PIIGUARD_UNIT_PIN", "a-pin-for-a-missing-module")
	_, err = mux.OpenRootKey(t.Context(), "pkcs11:token=t;object=k?module-path=/nonexistent/libp11.so&pin-source=env:PIIGUARD_UNIT_PIN")
	assert.ErrorIs(t, err, kms.ErrNotFound, "a missing library")
	assert.NotContains(t, err.Error(), "a-pin-for-a-missing-module")

	u, _ := url.Parse("pkcs11:token=t;object=k")
	_, err = (&Opener{}).OpenRootKey(t.Context(), u)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
}

func TestConfigValidation(t *testing.T) {
	good := Config{ModulePath: "/lib/p11.so", TokenLabel: "t", KeyLabel: "k", PIN: NewPIN("1234")}
	require.NoError(t, good.validate())
	for name, change := range map[string]func(*Config){
		"no module":             func(c *Config) { c.ModulePath = "" },
		"relative module":       func(c *Config) { c.ModulePath = "libsofthsm2.so" },
		"no token":              func(c *Config) { c.TokenLabel = "" },
		"token label too long":  func(c *Config) { c.TokenLabel = strings.Repeat("t", 33) },
		"serial too long":       func(c *Config) { c.TokenSerial = strings.Repeat("1", 17) },
		"no key label":          func(c *Config) { c.KeyLabel = "" },
		"no PIN":                func(c *Config) { c.PIN = PIN{} },
		"negative MaxSessions":  func(c *Config) { c.MaxSessions = -1 },
		"MaxSessions too large": func(c *Config) { c.MaxSessions = maxSessionsLimit + 1 },
	} {
		c := good
		change(&c)
		err := c.validate()
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "1234", name)
		}
	}
	_, err := Open(t.Context(), Config{ModulePath: "/lib/p11.so"})
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "Open validates before loading anything")
}

func TestPINNeverShows(t *testing.T) {
	const secret = "S3CRET-PIN-9876"
	pin := NewPIN(secret)
	cfg := Config{ModulePath: "/lib/p11.so", TokenLabel: "t", KeyLabel: "k", PIN: pin}
	o := &Opener{PIN: pin}
	d := &Driver{token: "t", label: "k", pin: []byte(secret)}

	var forms []string
	for _, v := range []any{pin, &pin, cfg, &cfg, o, *o, d} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			forms = append(forms, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		require.NoError(t, err)
		forms = append(forms, string(j))
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("opening", "pin", pin, "config", cfg, "driver", d)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("opening", "pin", pin, "config", cfg, "driver", d)
	forms = append(forms, logged.String())
	for _, f := range forms {
		assert.NotContains(t, f, secret)
		assert.NotContains(t, f, fmt.Sprintf("%x", secret))
	}
	assert.Equal(t, "PIN(redacted)", pin.String())
	assert.Equal(t, `pkcs11.Driver(token="t", object="k")`, fmt.Sprint(d))
	assert.Equal(t, secret, pin.Reveal())
}
