package vaulttransit

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/piiguard/piiguard/kms/internal/envelope"
)

// FuzzOpenOuter feeds arbitrary wrapped keys to the parser Unwrap runs
// before calling Vault: it must not panic, and whatever it accepts must be
// the canonical form, "vault:v<N>:" and canonical base64, that Wrap stores.
func FuzzOpenOuter(f *testing.F) {
	f.Add([]byte("\x01vault:v1:AAAA"))
	f.Add([]byte("\x01vault:v12:QUJDRA=="))
	f.Add([]byte("\x01vault:v0:AAAA"))
	f.Add([]byte("\x01vault:v1:AAB="))
	f.Add([]byte("\x02vault:v1:AAAA"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, wrapped []byte) {
		ct, v, err := openOuter(wrapped)
		if err != nil {
			return
		}
		if wrapped[0] != envelope.V1 || string(wrapped[1:]) != ct {
			t.Fatalf("accepted %q as %q", wrapped, ct)
		}
		rest, ok := strings.CutPrefix(ct, "vault:v"+strconv.Itoa(v)+":")
		if !ok || v < 1 {
			t.Fatalf("accepted %q with version %d", ct, v)
		}
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(raw) == 0 || base64.StdEncoding.EncodeToString(raw) != rest {
			t.Fatalf("accepted non-canonical base64 in %q", ct)
		}
	})
}
