//go:build integration

package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/multi"
	"github.com/piiguard/piiguard/kms/pkcs11"
)

// These tests run against a real SoftHSM2 (make integration, which
// exports PIIGUARD_TEST_PKCS11_MODULE and SOFTHSM2_CONF). Because they
// stop the "HSM" by taking its token storage away, they do not use the
// token other packages share: TestMain gives this test binary a SoftHSM2
// configuration and token directory of its own (SOFTHSM2_CONF is read
// when the library is initialised). Under the integration tag a missing
// SoftHSM2 is a failure, never a skip.

const (
	e2eToken  = "piiguard-e2e"
	e2ePIN    = "e2e-user-pin-2718"
	e2eSOPIN  = "e2e-so-pin-3141"
	e2ePINEnv = "PIIGUARD_E2E_HSM_PIN"
)

var hsmSetup struct {
	module  string // the PKCS#11 library
	tokens  string // the token directory
	setupOK bool
	err     error
}

func TestMain(m *testing.M) {
	os.Exit(runWithPrivateSoftHSM(m))
}

func runWithPrivateSoftHSM(m *testing.M) int {
	hsmSetup.module = os.Getenv("PIIGUARD_TEST_PKCS11_MODULE")
	if hsmSetup.module == "" || os.Getenv("SOFTHSM2_CONF") == "" {
		return m.Run() // the tests say what is missing
	}
	dir, err := os.MkdirTemp("", "piiguard-e2e-softhsm-")
	if err != nil {
		hsmSetup.err = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	hsmSetup.tokens = filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	hsmSetup.err = func() error {
		if err := os.Mkdir(hsmSetup.tokens, 0o700); err != nil {
			return err
		}
		text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", hsmSetup.tokens)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return err
		}
		os.Setenv("SOFTHSM2_CONF", conf)
		out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", e2eToken, "--pin", e2ePIN, "--so-pin", e2eSOPIN).CombinedOutput()
		if err != nil {
			return fmt.Errorf("softhsm2-util --init-token: %v: %s", err, out)
		}
		return nil
	}()
	hsmSetup.setupOK = hsmSetup.err == nil
	return m.Run()
}

// requireHSM fails the test if SoftHSM2 is not set up.
func requireHSM(t *testing.T) {
	t.Helper()
	switch {
	case hsmSetup.module == "":
		t.Fatal("PIIGUARD_TEST_PKCS11_MODULE and SOFTHSM2_CONF are not set: run the integration tests with scripts/integration.sh (make integration)")
	case !hsmSetup.setupOK:
		t.Fatalf("private SoftHSM2 token: %v", hsmSetup.err)
	}
	t.Setenv(e2ePINEnv, e2ePIN)
}

// hsmURI is the URI of key label on the private token.
func hsmURI(label string, create bool) string {
	u := "pkcs11:token=" + e2eToken + ";object=" + label + "?module-path=" + hsmSetup.module + "&pin-source=env:" + e2ePINEnv
	if create {
		u += "&x-create=true"
	}
	return u
}

func newMux() *kms.URLMux {
	mux := &kms.URLMux{}
	mux.Register(pkcs11.Scheme, &pkcs11.Opener{})
	mux.Register(localkey.Scheme, &localkey.Opener{})
	return mux
}

// stopHSM takes the token's storage away, as a failed HSM or a lost
// network HSM does: SoftHSM2 then fails every call on the token's objects
// (its key handles die, the token's info cannot be read, and the library
// cannot be initialised again). The returned function brings the storage
// back; the driver then recovers by itself.
func stopHSM(t *testing.T) (restart func()) {
	t.Helper()
	down := hsmSetup.tokens + ".down"
	require.NoError(t, os.Rename(hsmSetup.tokens, down))
	restarted := false
	restart = func() {
		if !restarted {
			restarted = true
			require.NoError(t, os.Rename(down, hsmSetup.tokens))
		}
	}
	t.Cleanup(restart)
	return restart
}

// TestSoftHSMOutage stops the HSM under a running keyring: with keysets
// cached, sealing and opening go on; a keyset that is not cached fails
// after bounded retries with ErrUnavailable; creating and rotating fail
// and leave the store as it was. When the HSM is back, the driver
// reconnects on its own and everything works again.
func TestSoftHSMOutage(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	root, err := newMux().OpenRootKey(ctx, hsmURI("outage-root", true))
	require.NoError(t, err)
	defer root.Close()
	store, err := filestore.Open(t.TempDir())
	require.NoError(t, err)
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)
	_, err = kms.NewAdmin(kr).Create(ctx, "cold", kms.PurposeAEAD)
	require.NoError(t, err)
	c.check(t, ctx, kr) // every keyset of the corpus is cached now
	before, err := store.ListKeysets(ctx)
	require.NoError(t, err)

	restart := stopHSM(t)
	// The HSM is really down: a wrap fails.
	_, err = root.Wrap(ctx, []byte("probe"), nil)
	require.ErrorIs(t, err, kms.ErrUnavailable)

	for range 50 {
		c.check(t, ctx, kr)
	}

	start := time.Now()
	_, err = kr.AEAD(ctx, "cold")
	require.ErrorIs(t, err, kms.ErrUnavailable, "a cache miss while the HSM is down")
	assert.Equal(t, piiguard.CodeUnavailable, piiguard.ErrorCode(err))
	assert.Less(t, time.Since(start), 10*time.Second, "bounded retries")
	assert.ErrorContains(t, err, `"cold"`)

	_, err = kms.NewAdmin(kr).Create(ctx, "new", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	_, err = kms.NewAdmin(kr).Rotate(ctx, "cold")
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	after, err := store.ListKeysets(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing was written during the outage")

	restart()
	var a interface {
		Encrypt(pt, ad []byte) ([]byte, error)
	}
	require.Eventually(t, func() bool {
		a, err = kr.AEAD(ctx, "cold")
		return err == nil
	}, 20*time.Second, 200*time.Millisecond, "the driver reconnects once the HSM is back: %v", err)
	_, err = a.Encrypt([]byte("x"), nil)
	require.NoError(t, err)
	_, err = kms.NewAdmin(kr).Create(ctx, "new", kms.PurposeAEAD)
	require.NoError(t, err)
	c.check(t, ctx, kr)
	rep, err := kms.NewAdmin(kr).Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK())
}

// TestSoftHSMOutageBehindAMultiBackendRootKey holds the root key in the
// HSM and in a local key file (the disaster-recovery copy): with the HSM
// stopped, a new process still loads every keyset, through the file.
func TestSoftHSMOutageBehindAMultiBackendRootKey(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	hsm, err := pkcs11.Open(ctx, pkcs11.Config{
		ModulePath: hsmSetup.module, TokenLabel: e2eToken, KeyLabel: "multi-root",
		PIN: pkcs11.NewPIN(e2ePIN), CreateKey: true,
	})
	require.NoError(t, err)
	file, _ := localRoot(t, t.TempDir(), "dr-copy")
	d, err := multi.New([]multi.Backend{{Name: "hsm", Driver: hsm}, {Name: "dr-file", Driver: file}}, multi.Options{})
	require.NoError(t, err)
	root := kms.NewRootKey(d, fastRetries("multi:hsm+dr-file"))
	defer root.Close()
	store := insecuremem.NewStore()
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)

	restart := stopHSM(t)
	fresh, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c.check(t, ctx, fresh)
	c.checkVerify(t, ctx, fresh)
	_, err = kms.NewAdmin(fresh).Create(ctx, "needs-both", kms.PurposeAEAD)
	assert.ErrorIs(t, err, kms.ErrUnavailable, "creation needs both backends by default")
	_, err = store.GetKeyset(ctx, "needs-both")
	assert.ErrorIs(t, err, kms.ErrNotFound)

	restart()
	require.Eventually(t, func() bool {
		_, err = kms.NewAdmin(fresh).Create(ctx, "needs-both", kms.PurposeAEAD)
		return err == nil
	}, 20*time.Second, 200*time.Millisecond, "creation works again with the HSM back: %v", err)
}

// TestSoftHSMMigrationLocalToHSM moves every keyset from a local key file
// to the HSM with one Rewrap, end to end through URIs, proves it with
// Verify, and opens everything in a new process that has only the HSM —
// the key file deleted.
func TestSoftHSMMigrationLocalToHSM(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	dir := t.TempDir()
	t.Setenv("PIIGUARD_E2E_PASSPHRASE", testPassphrase)
	keyFile := filepath.Join(dir, "root.key")
	localURI := "local://" + keyFile + "?passphrase_env=PIIGUARD_E2E_PASSPHRASE&create=true"
	mux := newMux()
	local, err := mux.OpenRootKey(ctx, localURI)
	require.NoError(t, err)
	storeDir := filepath.Join(dir, "store")
	store, err := filestore.Open(storeDir)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(local, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)
	allNamed(t, ctx, store, local.Name())

	hsmRoot, err := mux.OpenRootKey(ctx, hsmURI("migrated-root", true))
	require.NoError(t, err)
	defer hsmRoot.Close()
	n, err := kms.NewAdmin(kr).Rewrap(ctx, hsmRoot)
	require.NoError(t, err)
	assert.Equal(t, c.keysets, n, "one call moves every keyset")
	allNamed(t, ctx, store, "pkcs11:token="+e2eToken+";object=migrated-root")
	recs, err := store.ListKeysets(ctx)
	require.NoError(t, err)
	for _, r := range recs {
		assert.Len(t, r.WrappedDataKey, 1+12+32+16, "keyset %q: a 32-byte data key in the pkcs11 wrap format", r.Name)
		assert.Equal(t, byte(1), r.WrappedDataKey[0])
	}
	c.checkVerify(t, ctx, kr)
	c.check(t, ctx, kr)

	// A new process, with only the HSM: the local root key is gone.
	require.NoError(t, local.Close())
	require.NoError(t, os.Remove(keyFile))
	hsmAgain, err := newMux().OpenRootKey(ctx, hsmURI("migrated-root", false))
	require.NoError(t, err)
	defer hsmAgain.Close()
	store2, err := filestore.Open(storeDir)
	require.NoError(t, err)
	kr2, err := kms.NewKeyring(hsmAgain, store2, kms.KeyringOptions{})
	require.NoError(t, err)
	c.checkVerify(t, ctx, kr2)
	c.check(t, ctx, kr2)
}

// TestSoftHSMOutageAfterTheCacheExpired stops the HSM and lets every cached
// keyset expire: the keyring goes on serving them, and the reloads it tries
// against the stopped HSM are bounded per keyset and retry interval
// (min(5 s, CacheMaxAge)), not made on every call. A CountingDriver around
// the PKCS#11 driver counts them.
func TestSoftHSMOutageAfterTheCacheExpired(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	hsm, err := pkcs11.Open(ctx, pkcs11.Config{
		ModulePath: hsmSetup.module, TokenLabel: e2eToken, KeyLabel: "expiry-root",
		PIN: pkcs11.NewPIN(e2ePIN), CreateKey: true,
	})
	require.NoError(t, err)
	counting := kmstest.NewCountingDriver(hsm)
	root := kms.NewRootKey(counting, kms.RootKeyOptions{Name: "expiry-root", BaseDelay: 5 * time.Millisecond})
	defer root.Close()
	store, err := filestore.Open(t.TempDir())
	require.NoError(t, err)
	const maxAge = 300 * time.Millisecond
	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{CacheMaxAge: maxAge})
	require.NoError(t, err)
	defer kr.Close()
	c := makeCorpus(t, ctx, kr)
	c.check(t, ctx, kr)

	restart := stopHSM(t)
	defer restart()
	time.Sleep(maxAge + 100*time.Millisecond) // every entry has expired
	before, start := counting.Unwraps(), time.Now()
	const rounds = 50
	for range rounds {
		c.check(t, ctx, kr) // served from the expired keysets
	}
	calls := counting.Unwraps() - before
	intervals := int64(time.Since(start)/maxAge) + 2
	const keysets, attempts = 5, 3
	assert.LessOrEqual(t, calls, keysets*attempts*intervals,
		"%d unwraps in %d rounds: at most one reload (of %d attempts) per keyset and interval", calls, rounds, attempts)
	assert.Positive(t, calls, "reloads were tried")
	t.Logf("%d unwraps in %d rounds over %d intervals", calls, rounds, intervals)

	// Once the HSM is back (and the driver past its reconnect delay), every
	// keyset unwraps again, and the background reloads refresh the cache.
	restart()
	require.Eventually(t, func() bool {
		rep, err := kms.NewAdmin(kr).Verify(ctx)
		return err == nil && rep.OK()
	}, 20*time.Second, 100*time.Millisecond, "the keyring works again once the HSM is back")
	time.Sleep(maxAge)
	c.check(t, ctx, kr)
}
