package pii

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// Customer is the record of issue 4.
type Customer struct {
	ID         string `pii:"id"`
	Name       string `pii:"name"`
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string
	Phone      string `pii:"phone"`
	NationalID string `pii:"national_id,class=government_id"`
	City       string
}

func lucy() Customer {
	return Customer{
		ID:         "cus_1001",
		Name:       "Lucy Westenra",
		Email:      "Lucy.Westenra@example.com",
		Phone:      "+44 20 7946 8000",
		NationalID: "11010519491231002X",
		City:       "Whitby",
	}
}

// countingDriver counts the calls that reach the root key's backend.
type countingDriver struct {
	kms.Driver
	wraps, unwraps atomic.Int64
}

func (d *countingDriver) Wrap(ctx context.Context, p, ad []byte) ([]byte, error) {
	d.wraps.Add(1)
	return d.Driver.Wrap(ctx, p, ad)
}

func (d *countingDriver) Unwrap(ctx context.Context, c, ad []byte) ([]byte, error) {
	d.unwraps.Add(1)
	return d.Driver.Unwrap(ctx, c, ad)
}

type testEnv struct {
	kr     *kms.Keyring
	p      *Protector
	driver *countingDriver
	events *eventLog
}

// newEnv returns a Protector over a fresh in-memory key ring with both
// keysets created.
func newEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	ctx := context.Background()
	d := &countingDriver{Driver: insecuremem.NewDriver()}
	kr, err := kms.NewKeyring(kms.NewRootKey(d, kms.RootKeyOptions{}), insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kr.Close() })
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, DefaultFieldKeyset, kms.PurposeAEAD))
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, DefaultSearchKeyset, kms.PurposePRF))
	if opts.Checker == nil {
		opts.Checker = access.InsecureAllowAll // tests of everything but access control
	}
	ev := &eventLog{}
	if opts.Audit == nil {
		opts.Audit = ev
	}
	p, err := New(kr, opts)
	require.NoError(t, err)
	return &testEnv{kr: kr, p: p, driver: d, events: ev}
}

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
