package sqlvault

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/prf"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/tokenize"
)

var ctx = context.Background()

// newKeyring returns a key ring over an insecure in-memory root key and
// store, with the keysets of a vault created.
func newKeyring(t testing.TB) *kms.Keyring {
	t.Helper()
	kr, err := kms.NewKeyring(kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, tokenize.DefaultVaultKeyset, kms.PurposeAEAD))
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, tokenize.DefaultVaultIndexKeyset, kms.PurposePRF))
	return kr
}

// allowAll is o with every detokenization allowed.
func allowAll(o tokenize.VaultOptions) tokenize.VaultOptions {
	o.Authorize = tokenize.AllowAll
	return o
}

// newSQLiteVault returns a vault over a new SQLite file in a temporary
// directory, its store, and the directory.
func newSQLiteVault(t testing.TB, keys tokenize.VaultKeys, opts tokenize.VaultOptions) (*tokenize.Vault, *Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := OpenSQLite(filepath.Join(dir, "tokens.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	v, err := tokenize.NewVault(keys, st, opts)
	require.NoError(t, err)
	return v, st, dir
}

// unknownToken returns a well-formed vaulted token of domain that no vault
// made: tok's domain tag and a fresh random part.
func unknownToken(t testing.TB, tok string) string {
	t.Helper()
	var r [16]byte
	_, err := rand.Read(r[:])
	require.NoError(t, err)
	const head = len("tv1_xxxx_")
	return tok[:head] + base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(r[:])
}

// primaryOnly is a key ring seen by a process that knows only the primary
// version of each PRF keyset: what another process sees after a rotation
// it made before this one's cache caught up.
type primaryOnly struct{ *kms.Keyring }

func (k primaryOnly) PRF(ctx context.Context, name string) (*prf.Set, error) {
	set, err := k.Keyring.PRF(ctx, name)
	if err != nil {
		return nil, err
	}
	return &prf.Set{PrimaryID: set.PrimaryID, PRFs: map[uint32]prf.PRF{set.PrimaryID: set.PRFs[set.PrimaryID]}}, nil
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

func (l *eventLog) setFail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = err
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
