package tokenize

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/daead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (never the fixed keysets once written)")

var ctx = context.Background()

// fixedKeysetsFile holds cleartext Tink keysets used only by tests, so
// that golden tokens can be pinned. They protect nothing.
const fixedKeysetsFile = "testdata/keysets-v1.json"

// fixedKeysetTemplates are the fixed keysets: name → template.
var fixedKeysetTemplates = map[string]*tinkpb.KeyTemplate{
	DefaultHMACKeyset:       prf.HMACSHA256PRFKeyTemplate(),
	DefaultSIVKeyset:        daead.AESSIVKeyTemplate(),
	DefaultFPEKeyset:        prf.HMACSHA256PRFKeyTemplate(),
	DefaultVaultKeyset:      aead.AES256GCMKeyTemplate(),
	DefaultVaultIndexKeyset: prf.HMACSHA256PRFKeyTemplate(),
}

// fixedKeys is a key source over fixed cleartext keysets. It implements
// PRFKeys, DeterministicAEADKeys and VaultKeys.
type fixedKeys struct {
	prfs  map[string]*prf.Set
	daead map[string]tink.DeterministicAEAD
	aead  map[string]tink.AEAD
}

func (k *fixedKeys) PRF(_ context.Context, name string) (*prf.Set, error) {
	if s, ok := k.prfs[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("test keys: no PRF keyset %q: %w", name, kms.ErrNotFound)
}

func (k *fixedKeys) DeterministicAEAD(_ context.Context, name string) (tink.DeterministicAEAD, error) {
	if d, ok := k.daead[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("test keys: no deterministic AEAD keyset %q: %w", name, kms.ErrNotFound)
}

func (k *fixedKeys) AEAD(_ context.Context, name string) (tink.AEAD, error) {
	if a, ok := k.aead[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("test keys: no AEAD keyset %q: %w", name, kms.ErrNotFound)
}

var (
	fixedOnce sync.Once
	fixed     *fixedKeys
	fixedErr  error
)

// loadFixedKeys returns the fixed test keys, writing the keysets file the
// first time -update runs without one.
func loadFixedKeys(t testing.TB) *fixedKeys {
	t.Helper()
	fixedOnce.Do(func() { fixed, fixedErr = readFixedKeys() })
	require.NoError(t, fixedErr)
	return fixed
}

func readFixedKeys() (*fixedKeys, error) {
	raw, err := os.ReadFile(fixedKeysetsFile)
	if os.IsNotExist(err) && *update {
		if err := writeFixedKeys(); err != nil {
			return nil, err
		}
		raw, err = os.ReadFile(fixedKeysetsFile)
	}
	if err != nil {
		return nil, err
	}
	var sets map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sets); err != nil {
		return nil, err
	}
	k := &fixedKeys{prfs: map[string]*prf.Set{}, daead: map[string]tink.DeterministicAEAD{}, aead: map[string]tink.AEAD{}}
	for name, js := range sets {
		h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(js)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		switch name {
		case DefaultSIVKeyset:
			k.daead[name], err = daead.New(h)
		case DefaultVaultKeyset:
			k.aead[name], err = aead.New(h)
		default:
			k.prfs[name], err = prf.NewPRFSet(h)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return k, nil
}

func writeFixedKeys() error {
	out := map[string]json.RawMessage{}
	for name, tmpl := range fixedKeysetTemplates {
		h, err := keyset.NewHandle(tmpl)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
			return err
		}
		out[name] = json.RawMessage(buf.Bytes())
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(fixedKeysetsFile), 0o755); err != nil {
		return err
	}
	return os.WriteFile(fixedKeysetsFile, append(b, '\n'), 0o644)
}

// newKeyring returns a key ring over an insecure in-memory root key and
// store, with every default keyset of this package created.
func newKeyring(t testing.TB, opts kms.KeyringOptions) *kms.Keyring {
	t.Helper()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })
	for name, p := range map[string]kms.Purpose{
		DefaultHMACKeyset:       kms.PurposePRF,
		DefaultSIVKeyset:        kms.PurposeDeterministicAEAD,
		DefaultFPEKeyset:        kms.PurposePRF,
		DefaultVaultKeyset:      kms.PurposeAEAD,
		DefaultVaultIndexKeyset: kms.PurposePRF,
	} {
		require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, name, p))
	}
	return kr
}

// eventLog is an audit sink that keeps events, and fails when told to.
type eventLog struct {
	mu     sync.Mutex
	events []audit.Event
	fail   error
}

func (l *eventLog) Record(_ context.Context, e audit.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.events = append(l.events, e)
	return nil
}

func (l *eventLog) all() []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audit.Event(nil), l.events...)
}

func (l *eventLog) last() audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return audit.Event{}
	}
	return l.events[len(l.events)-1]
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// assertNoLeak fails if s holds any of secrets.
func assertNoLeak(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		// Shorter strings match by chance; so do short runs of digits,
		// which timestamps and key IDs in events are full of.
		if len(sec) < 4 || len(sec) < 8 && strings.Trim(sec, "0123456789") == "" {
			continue
		}
		if strings.Contains(s, sec) {
			t.Errorf("%q leaks a secret (%d bytes)", s, len(sec))
		}
	}
}

// allowAll returns the options o of a SIV, FPE or Vault with every
// detokenization allowed.
func allowAll[O SIVOptions | FPEOptions | VaultOptions](o O) O {
	switch p := any(&o).(type) {
	case *SIVOptions:
		p.Authorize = AllowAll
	case *FPEOptions:
		p.Authorize = AllowAll
	case *VaultOptions:
		p.Authorize = AllowAll
	}
	return o
}

// newMemVault returns a vault over a new in-memory store.
func newMemVault(t testing.TB, keys VaultKeys, opts VaultOptions) *Vault {
	t.Helper()
	v, err := NewVault(keys, newMemStore(), opts)
	require.NoError(t, err)
	return v
}
