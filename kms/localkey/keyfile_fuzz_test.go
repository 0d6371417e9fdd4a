package localkey

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/piiguard/piiguard/kms"
)

// FuzzParseKeyFile checks that the key file parser never panics, that it
// fails only with kms.ErrCorrupt or kms.ErrUnsupportedVersion, and that whatever it
// accepts is within bounds and survives a write and a second read.
//
//	go test -run '^$' -fuzz FuzzParseKeyFile -fuzztime 20s ./kms/localkey/
func FuzzParseKeyFile(f *testing.F) {
	golden, err := os.ReadFile(goldenKeyFile)
	if err != nil {
		f.Fatal(err)
	}
	g := string(golden)
	for _, seed := range []string{
		g,
		g[:len(g)/2],
		strings.Replace(g, `"version": 1`, `"version": 2`, 1),
		strings.Replace(g, `"version": 1`, `"version": 1, "version": 1`, 1),
		strings.Replace(g, `"memory_kib": 64`, `"memory_kib": 104857600`, 1),
		strings.Replace(g, `"threads": 1`, `"threads": 0`, 1),
		strings.Replace(g, `"key_id"`, `"KEY_ID"`, 1),
		"", "{}", "null", "[]", `{"format":"piiguard.rootkey","version":1}`,
		`{"format":"piiguard.rootkey","version":99999999999999999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeyFile(data)
		if err != nil {
			if !errors.Is(err, kms.ErrCorrupt) && !errors.Is(err, kms.ErrUnsupportedVersion) {
				t.Fatalf("error wraps neither kms.ErrCorrupt nor ErrUnsupportedVersion: %v", err)
			}
			if kf != nil {
				t.Fatal("a key file returned with an error")
			}
			return
		}
		if reason := kf.kdf.validForFile(); reason != "" {
			t.Fatalf("accepted out-of-bounds KDF parameters: %s", reason)
		}
		if len(kf.salt) < minSaltSize || len(kf.salt) > maxSaltSize || len(kf.nonce) != gcmNonceSize || len(kf.sealedKey) != sealedKeySize {
			t.Fatalf("accepted wrong lengths: salt %d, nonce %d, sealed key %d", len(kf.salt), len(kf.nonce), len(kf.sealedKey))
		}
		again, err := parseKeyFile(kf.marshal())
		if err != nil {
			t.Fatalf("cannot read back what was written: %v", err)
		}
		if string(again.marshal()) != string(kf.marshal()) || string(again.associatedData()) != string(kf.associatedData()) {
			t.Fatal("a write and a read changed the key file")
		}
	})
}
