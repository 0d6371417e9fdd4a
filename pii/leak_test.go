package pii

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/kms"
)

// TestErrorsLeakNothing seals records full of recognisable PII, triggers
// every error path of Seal, Open, Redact and SearchTerms, and checks that
// no error string (in every fmt form), log line, audit event or panic
// message holds any of the values or their ciphertexts.
func TestErrorsLeakNothing(t *testing.T) {
	env := newEnv(t, Options{})
	secrets := []string{"Renfield", "renfield@carfax.example", "+44 1947 600 999", "R3NF13LD-NID-666", "Carfax Abbey", "YO22 4XX"}
	record := func() Customer {
		return Customer{ID: "cus_leak", Name: "R. M. Renfield", Email: "renfield@carfax.example", Phone: "+44 1947 600 999", NationalID: "R3NF13LD-NID-666", City: "Purfleet"}
	}
	var errs []error
	try := func(name string, f func() error) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s panicked: %v", name, r)
				errs = append(errs, fmt.Errorf("panic: %v", r))
			}
		}()
		err := f()
		require.Error(t, err, name)
		errs = append(errs, err)
	}

	sealed := record()
	require.NoError(t, env.p.Seal(ctx, &sealed))
	other := record()
	other.ID = "cus_other"
	require.NoError(t, env.p.Seal(ctx, &other))
	secrets = append(secrets, sealed.Name, sealed.Email, sealed.Phone, sealed.NationalID, other.Name)

	try("nil", func() error { return env.p.Seal(ctx, nil) })
	try("non-pointer", func() error { return env.p.Seal(ctx, record()) })
	try("unexported tagged field", func() error {
		return env.p.Seal(ctx, &unexportedTagged{ID: "x", email: "renfield@carfax.example"})
	})
	try("cyclic pointers", func() error {
		n := &Node{ID: "n", Name: "R. M. Renfield"}
		n.Next = n
		return env.p.Seal(ctx, n)
	})
	try("oversized", func() error {
		c := record()
		c.Name = strings.Repeat("Renfield ", MaxValueSize/9+1)
		return env.p.Seal(ctx, &c)
	})
	try("tampered", func() error {
		c := sealed
		b := []byte(c.Name)
		b[len(b)/2] ^= 1
		c.Name = string(b)
		return env.p.Open(ctx, &c)
	})
	try("truncated", func() error {
		c := sealed
		c.Email = c.Email[:len(c.Email)-6]
		return env.p.Open(ctx, &c)
	})
	try("wrong field", func() error {
		c := sealed
		c.Phone = c.NationalID
		return env.p.Open(ctx, &c)
	})
	try("wrong row", func() error {
		c := sealed
		c.Name = other.Name
		return env.p.Open(ctx, &c)
	})
	try("seal a copied ciphertext", func() error {
		c := record()
		c.Name = other.Name
		return env.p.Seal(ctx, &c)
	})
	try("plaintext", func() error {
		c := record()
		return env.p.Open(ctx, &c)
	})
	try("missing ID", func() error {
		c := record()
		c.ID = ""
		return env.p.Seal(ctx, &c)
	})
	try("invalid record to Redact", func() error { return Redact(record()) })
	try("not searchable", func() error {
		_, err := env.p.SearchTerms(ctx, Customer{}, "Name", "R. M. Renfield")
		return err
	})
	try("plaintext to the database", func() error {
		_, err := String("R. M. Renfield").Value()
		return err
	})
	try("plaintext Value to the database", func() error {
		_, err := ValueOf("Carfax Abbey").Value()
		return err
	})
	try("scan a broken ciphertext", func() error {
		var v Value[string]
		return v.Scan(sealed.Name[:30])
	})
	try("a phone number given as the default country code", func() error {
		_, err := newProtector(nil, Options{Checker: access.InsecureAllowAll, DefaultCountryCode: "+44 1947 600 999"})
		if err != nil {
			assert.Contains(t, err.Error(), "Options.DefaultCountryCode", "the error names the option")
		}
		return err
	})
	try("destroyed key version", func() error {
		vs, err := kms.NewAdmin(env.kr).Versions(ctx, DefaultFieldKeyset)
		require.NoError(t, err)
		_, err = kms.NewAdmin(env.kr).Rotate(ctx, DefaultFieldKeyset)
		require.NoError(t, err)
		require.NoError(t, kms.NewAdmin(env.kr).Destroy(ctx, DefaultFieldKeyset, vs[0].ID))
		c := sealed
		return env.p.Open(ctx, &c)
	})

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	jlog := slog.New(slog.NewJSONHandler(&logs, nil))
	for _, err := range errs {
		log.Error("operation failed", "err", err)
		jlog.Error("operation failed", "err", err)
		for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)} {
			for _, s := range secrets {
				assert.NotContains(t, form, s, "error %q", err.Error())
			}
		}
	}
	for _, s := range secrets {
		assert.NotContains(t, logs.String(), s)
		for _, e := range env.events.all() {
			assert.NotContains(t, fmt.Sprintf("%+v", e), s)
		}
	}
	assert.GreaterOrEqual(t, len(errs), 18)
}
