//go:build integration

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/kmstest"
)

// These tests run against a real SoftHSM2 token, set up by
// scripts/integration.sh, which exports SOFTHSM2_CONF and
// PIIGUARD_TEST_PKCS11_{MODULE,TOKEN,PIN}. Under the integration tag a
// missing token is a failure, never a skip. Every test makes keys with
// labels no other test uses, so packages sharing the token do not collide.

type softHSM struct {
	module, token, pin string
}

func testToken(t testing.TB) softHSM {
	t.Helper()
	var missing []string
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	h := softHSM{
		module: get("PIIGUARD_TEST_PKCS11_MODULE"),
		token:  get("PIIGUARD_TEST_PKCS11_TOKEN"),
		pin:    get("PIIGUARD_TEST_PKCS11_PIN"),
	}
	get("SOFTHSM2_CONF")
	if len(missing) > 0 {
		t.Fatalf("%s not set: run the integration tests with scripts/integration.sh (make integration)", strings.Join(missing, ", "))
	}
	return h
}

func uniqueLabel(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func (h softHSM) config(label string) Config {
	return Config{ModulePath: h.module, TokenLabel: h.token, KeyLabel: label, PIN: NewPIN(h.pin), CreateKey: true}
}

// open opens a driver, closed at the end of the test; with cleanup, the
// key is destroyed too.
func (h softHSM) open(t testing.TB, cfg Config) *Driver {
	t.Helper()
	d, err := Open(context.Background(), cfg)
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// raw runs f with a logged-in read-write session of d's token.
func raw(t testing.TB, d *Driver, f func(c *p11.Ctx, h p11.SessionHandle, st *state)) {
	t.Helper()
	st, err := d.ready()
	require.NoError(t, err)
	d.mod.mu.RLock()
	defer d.mod.mu.RUnlock()
	c := d.mod.ctx
	h, err := c.OpenSession(st.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	require.NoError(t, err)
	defer c.CloseSession(h)
	f(c, h, st)
}

// destroyKeyAtCleanup destroys every key labelled label when the test ends.
func (h softHSM) destroyKeyAtCleanup(t testing.TB, label string) {
	t.Cleanup(func() {
		cfg := h.config(label)
		cfg.CreateKey = false
		d, err := Open(context.Background(), cfg)
		if err != nil {
			return
		}
		defer d.Close()
		raw(t, d, func(c *p11.Ctx, s p11.SessionHandle, st *state) {
			_ = c.DestroyObject(s, st.key)
		})
	})
}

func TestSoftHSMConformance(t *testing.T) {
	h := testToken(t)
	a, b := uniqueLabel(t, "conformance-a"), uniqueLabel(t, "conformance-b")
	h.destroyKeyAtCleanup(t, a)
	h.destroyKeyAtCleanup(t, b)
	opener := func(label string) func(context.Context) (kms.Driver, error) {
		return func(ctx context.Context) (kms.Driver, error) { return Open(ctx, h.config(label)) }
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: opener(a), NewOther: opener(b), Secret: [][]byte{[]byte(h.pin)}})
}

func TestSoftHSMGeneratedKeyIsNotExtractable(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "non-extractable")
	h.destroyKeyAtCleanup(t, label)
	d := h.open(t, h.config(label))
	raw(t, d, func(c *p11.Ctx, s p11.SessionHandle, st *state) {
		_, err := c.GetAttributeValue(s, st.key, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
		require.Error(t, err, "the token must refuse to reveal the key's value")
		rv, ok := returnValue(err)
		require.True(t, ok)
		assert.Equal(t, uint(p11.CKR_ATTRIBUTE_SENSITIVE), rv)

		attrs, err := c.GetAttributeValue(s, st.key, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_SENSITIVE, nil),
			p11.NewAttribute(p11.CKA_ALWAYS_SENSITIVE, nil),
			p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
			p11.NewAttribute(p11.CKA_NEVER_EXTRACTABLE, nil),
			p11.NewAttribute(p11.CKA_TOKEN, nil),
			p11.NewAttribute(p11.CKA_PRIVATE, nil),
			p11.NewAttribute(p11.CKA_WRAP, nil),
			p11.NewAttribute(p11.CKA_VALUE_LEN, nil),
		})
		require.NoError(t, err)
		want := map[uint]bool{
			p11.CKA_SENSITIVE: true, p11.CKA_ALWAYS_SENSITIVE: true,
			p11.CKA_EXTRACTABLE: false, p11.CKA_NEVER_EXTRACTABLE: true,
			p11.CKA_TOKEN: true, p11.CKA_PRIVATE: true, p11.CKA_WRAP: false,
		}
		for _, a := range attrs {
			if a.Type == p11.CKA_VALUE_LEN {
				n, _ := ulong(a.Value)
				assert.Equal(t, uint64(32), n, "AES-256")
				continue
			}
			assert.Equal(t, want[a.Type], boolAttr(a.Value), "attribute 0x%x", a.Type)
		}

		// Nor may the key be wrapped out by another key of the token.
		wk, err := c.GenerateKey(s, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
			p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
			p11.NewAttribute(p11.CKA_TOKEN, false),
			p11.NewAttribute(p11.CKA_WRAP, true),
		})
		require.NoError(t, err)
		defer c.DestroyObject(s, wk)
		_, err = c.WrapKey(s, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP_PAD, nil)}, wk, st.key)
		assert.Error(t, err, "wrapping the root key out of the token must fail")
	})
}

// importKey creates an AES key with a known value in the token, as an
// operator importing a key would; it is sensitive unless extractable is
// set.
func (h softHSM) importKey(t testing.TB, label string, value []byte, extractable bool) {
	t.Helper()
	// Any key will do to get a logged-in session.
	helper := uniqueLabel(t, "helper")
	h.destroyKeyAtCleanup(t, helper)
	d := h.open(t, h.config(helper))
	raw(t, d, func(c *p11.Ctx, s p11.SessionHandle, _ *state) {
		_, err := c.CreateObject(s, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
			p11.NewAttribute(p11.CKA_VALUE, value),
			p11.NewAttribute(p11.CKA_LABEL, label),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, true),
			p11.NewAttribute(p11.CKA_SENSITIVE, !extractable),
			p11.NewAttribute(p11.CKA_EXTRACTABLE, extractable),
			p11.NewAttribute(p11.CKA_ENCRYPT, true),
			p11.NewAttribute(p11.CKA_DECRYPT, true),
		})
		require.NoError(t, err, "C_CreateObject")
	})
	h.destroyKeyAtCleanup(t, label)
}

// TestSoftHSMGoldenVectors imports the golden vectors' public key and
// unwraps every vector with the driver: the format is pinned against a
// real token, not only against Go's AES-GCM.
func TestSoftHSMGoldenVectors(t *testing.T) {
	h := testToken(t)
	v := loadGolden(t)
	key := unhex(t, v.KeyHex)
	label := uniqueLabel(t, "golden")
	h.importKey(t, label, key, false)
	cfg := h.config(label)
	cfg.CreateKey = false
	d := h.open(t, cfg)
	for i, w := range v.Wraps {
		pt, err := d.Unwrap(t.Context(), unhex(t, w.CiphertextHex), unhex(t, w.AssociatedDataHex))
		require.NoError(t, err, "vector %d", i)
		assert.Equal(t, w.PlaintextHex, hex.EncodeToString(pt), "vector %d", i)
	}
	for _, m := range v.Malformed {
		_, err := d.Unwrap(t.Context(), unhex(t, m.CiphertextHex), nil)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, m.Reason)
	}
	// And what the token wraps opens with the reference implementation.
	ad := []byte("kms/keyset/customers")
	ct, err := d.Wrap(t.Context(), []byte("data key"), ad)
	require.NoError(t, err)
	blob, err := parseBlob(ct)
	require.NoError(t, err)
	pt, err := referenceGCM(t, key).Open(nil, blob.iv, blob.sealed, gcmAD(ad))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(pt))
}

func TestSoftHSMRefusesExtractableKey(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "extractable")
	value := make([]byte, 32)
	_, _ = rand.Read(value)
	h.importKey(t, label, value, true)
	cfg := h.config(label)
	cfg.CreateKey = false
	_, err := Open(t.Context(), cfg)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.ErrorContains(t, err, "extractable")
}

func TestSoftHSMMissingKeyOrTokenIsNotFound(t *testing.T) {
	h := testToken(t)
	cfg := h.config(uniqueLabel(t, "missing"))
	cfg.CreateKey = false
	_, err := Open(t.Context(), cfg)
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.Equal(t, piiguard.CodeNotFound, piiguard.ErrorCode(err))

	cfg = h.config("anything")
	cfg.TokenLabel = "no-such-token"
	_, err = Open(t.Context(), cfg)
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.ErrorContains(t, err, "no-such-token")

	cfg = h.config("anything")
	cfg.ModulePath = "/nonexistent/libpkcs11.so"
	_, err = Open(t.Context(), cfg)
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestSoftHSMWrongPINIsPermissionDenied(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "pin")
	h.destroyKeyAtCleanup(t, label)
	wrongPIN := "wrong-" + hex.EncodeToString([]byte(label))[:8]
	wrong := h.config(label)
	wrong.PIN = NewPIN(wrongPIN)

	check := func(what string, err error) {
		t.Helper()
		require.Error(t, err, what)
		assert.ErrorIs(t, err, kms.ErrPermissionDenied, what)
		assert.Equal(t, piiguard.CodePermissionDenied, piiguard.ErrorCode(err), what)
		for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, form, wrongPIN, what)
			assert.NotContains(t, form, h.pin, what)
		}
	}

	// No driver open: the token says CKR_PIN_INCORRECT.
	_, err := Open(t.Context(), wrong)
	check("wrong PIN, token logged out", err)
	assert.ErrorContains(t, err, "CKR_PIN_INCORRECT")

	// A driver with the right PIN is logged in: the wrong one must not
	// ride on its login.
	h.open(t, h.config(label))
	_, err = Open(t.Context(), wrong)
	check("wrong PIN, token logged in by another driver", err)

	// Through the URI too, with the PIN in the environment.
	t.Setenv("PIIGUARD_TEST_WRONG_PIN", wrongPIN)
	var mux kms.URLMux
	mux.Register(Scheme, &Opener{})
	_, err = mux.OpenRootKey(t.Context(), "pkcs11:token="+h.token+";object="+label+"?module-path="+h.module+"&pin-source=env:PIIGUARD_TEST_WRONG_PIN")
	check("wrong PIN through the URI", err)
}

func TestSoftHSMOpenByURI(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "uri")
	h.destroyKeyAtCleanup(t, label)
	t.Setenv("PIIGUARD_TEST_URI_PIN", h.pin)
	pinFile := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte(h.pin+"\n"), 0o600))

	var mux kms.URLMux
	mux.Register(Scheme, &Opener{})
	ctx := t.Context()
	uri := "pkcs11:token=" + h.token + ";object=" + label + "?module-path=" + h.module + "&pin-source=env:PIIGUARD_TEST_URI_PIN"

	_, err := mux.OpenRootKey(ctx, uri)
	require.ErrorIs(t, err, kms.ErrNotFound, "without x-create a missing key is not made")

	root, err := mux.OpenRootKey(ctx, uri+"&x-create=true&x-max-sessions=2")
	require.NoError(t, err)
	defer root.Close()
	assert.Equal(t, "pkcs11:token="+h.token+";object="+label, root.Name(), "the name keeps no query: no module path, no PIN source")
	ct, err := root.Wrap(ctx, []byte("data key"), []byte("ad"))
	require.NoError(t, err)

	// The same key, opened through a PIN file and an Opener that pins the
	// module, unwraps it.
	var mux2 kms.URLMux
	mux2.Register(Scheme, &Opener{ModulePath: h.module})
	root2, err := mux2.OpenRootKey(ctx, "pkcs11:token="+h.token+";object="+label+";type=secret-key?pin-source=file:"+pinFile)
	require.NoError(t, err)
	defer root2.Close()
	pt, err := root2.Unwrap(ctx, ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(pt))

	_, err = mux2.OpenRootKey(ctx, "pkcs11:token="+h.token+";object="+label+"?module-path=/tmp/evil.so&pin-source=file:"+pinFile)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument, "the opener allows one module only")

	// Nothing shows the PIN.
	for _, form := range []string{root.String(), fmt.Sprintf("%v %+v %#v", root, root2, &mux)} {
		assert.NotContains(t, form, h.pin)
	}
}

func TestSoftHSMSessionPoolRunsCallsInParallel(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "pool")
	h.destroyKeyAtCleanup(t, label)
	cfg := h.config(label)
	cfg.MaxSessions = 4
	d := h.open(t, cfg)
	ct, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	const goroutines, calls = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range calls {
				pt, err := d.Unwrap(context.Background(), ct, nil)
				if err != nil || string(pt) != "data key" {
					errs <- fmt.Errorf("unwrap: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.LessOrEqual(t, d.pool.highWater.Load(), int64(4), "never more sessions than MaxSessions")
	assert.Greater(t, d.pool.highWater.Load(), int64(1), "concurrent callers got sessions of their own")
	assert.LessOrEqual(t, d.pool.opened.Load(), int64(4), "sessions are reused, not opened per call")

	// One session: callers queue, and all succeed.
	cfg.MaxSessions = 1
	one := h.open(t, cfg)
	var wg1 sync.WaitGroup
	for range 8 {
		wg1.Go(func() {
			_, err := one.Unwrap(context.Background(), ct, nil)
			assert.NoError(t, err)
		})
	}
	wg1.Wait()
	assert.Equal(t, int64(1), one.pool.highWater.Load())

	// A caller waiting for a session gives up when its context ends.
	s, err := one.pool.get(t.Context(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = one.Unwrap(ctx, ct, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	one.pool.put(s)
}

// TestSoftHSMRecoversFromLostSessions ends every session of the process
// with the token, as an HSM restart or a dropped connection does: the
// next call fails with ErrUnavailable, and the driver reconnects (new
// sessions, login) on the one after; through a RootKey the retry hides it.
func TestSoftHSMRecoversFromLostSessions(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "lost-sessions")
	h.destroyKeyAtCleanup(t, label)
	d := h.open(t, h.config(label))
	ctx := t.Context()
	ct, err := d.Wrap(ctx, []byte("data key"), nil)
	require.NoError(t, err)

	st, err := d.ready()
	require.NoError(t, err)
	d.mod.mu.RLock()
	require.NoError(t, d.mod.ctx.CloseAllSessions(st.slot))
	d.mod.mu.RUnlock()

	_, err = d.Unwrap(ctx, ct, nil)
	require.ErrorIs(t, err, kms.ErrUnavailable, "a dead session is an outage, not a bad ciphertext")
	pt, err := d.Unwrap(ctx, ct, nil)
	require.NoError(t, err, "the driver reconnects")
	assert.Equal(t, "data key", string(pt))

	root := kms.NewRootKey(d, kms.RootKeyOptions{BaseDelay: time.Millisecond})
	d.mod.mu.RLock()
	require.NoError(t, d.mod.ctx.CloseAllSessions(st.slot))
	d.mod.mu.RUnlock()
	pt, err = root.Unwrap(ctx, ct, nil)
	require.NoError(t, err, "RootKey retries ErrUnavailable")
	assert.Equal(t, "data key", string(pt))
}

// TestSoftHSMRecoversFromFinalizedLibrary finalises the library under the
// driver, as a library that lost its device does: the driver initialises
// it again and finds its token and key.
func TestSoftHSMRecoversFromFinalizedLibrary(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "finalized")
	h.destroyKeyAtCleanup(t, label)
	d := h.open(t, h.config(label))
	ctx := t.Context()
	ct, err := d.Wrap(ctx, []byte("data key"), nil)
	require.NoError(t, err)

	d.mod.mu.Lock()
	require.NoError(t, d.mod.ctx.Finalize())
	d.mod.mu.Unlock()

	root := kms.NewRootKey(d, kms.RootKeyOptions{BaseDelay: 10 * time.Millisecond})
	var pt []byte
	require.Eventually(t, func() bool {
		pt, err = root.Unwrap(ctx, ct, nil)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "the driver re-initialises the library")
	assert.Equal(t, "data key", string(pt))
	ct2, err := d.Wrap(ctx, []byte("again"), nil)
	require.NoError(t, err)
	pt, err = d.Unwrap(ctx, ct2, nil)
	require.NoError(t, err)
	assert.Equal(t, "again", string(pt))
}

func TestSoftHSMTwoDriversShareTheLibrary(t *testing.T) {
	h := testToken(t)
	label := uniqueLabel(t, "shared")
	h.destroyKeyAtCleanup(t, label)
	a := h.open(t, h.config(label))
	b := h.open(t, h.config(label))
	assert.Same(t, a.mod, b.mod)
	ct, err := a.Wrap(t.Context(), []byte("k"), nil)
	require.NoError(t, err)
	require.NoError(t, a.Close(), "closing one driver leaves the library to the other")
	pt, err := b.Unwrap(t.Context(), ct, nil)
	require.NoError(t, err)
	assert.True(t, bytes.Equal([]byte("k"), pt))
}
