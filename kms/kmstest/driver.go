package kmstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
)

// DriverHarness makes the drivers RunDriverTests exercises. Its methods
// are called from parallel subtests and must be safe for concurrent use.
type DriverHarness interface {
	// NewDriver returns a driver over a root key of the backend under
	// test. Calls may return drivers over the same root key or over new
	// ones. The suite closes every driver it gets.
	NewDriver(ctx context.Context) (kms.Driver, error)
	// NewOtherDriver returns a driver over a root key of the same backend
	// that differs from every root key NewDriver returns.
	NewOtherDriver(ctx context.Context) (kms.Driver, error)
}

// SecretsHarness is a DriverHarness that knows the secrets behind its
// drivers — key bytes, passphrases, credentials — so the suite can check
// that none of them shows in an error message or in the driver's String,
// GoString, %v, %x, %d or JSON forms. Implementing it is optional.
type SecretsHarness interface {
	DriverHarness
	Secrets() [][]byte
}

// HarnessFuncs is a DriverHarness (and SecretsHarness) made of functions.
type HarnessFuncs struct {
	New      func(ctx context.Context) (kms.Driver, error)
	NewOther func(ctx context.Context) (kms.Driver, error)
	// Secret lists the secrets Secrets returns; it may be nil.
	Secret [][]byte
}

// NewDriver calls h.New.
func (h HarnessFuncs) NewDriver(ctx context.Context) (kms.Driver, error) { return h.New(ctx) }

// NewOtherDriver calls h.NewOther.
func (h HarnessFuncs) NewOtherDriver(ctx context.Context) (kms.Driver, error) {
	return h.NewOther(ctx)
}

// Secrets returns h.Secret.
func (h HarnessFuncs) Secrets() [][]byte { return h.Secret }

// RunDriverTests runs the conformance suite that every kms.Driver must pass:
// the contract in the kms.Driver documentation.
//
// It runs every test twice: on the drivers as h returns them ("Driver"),
// and on the same drivers wrapped in kms.NewRootKey ("RootKey"), so that
// the portable layer is checked over the backend too. The subtests:
//
//   - RoundTrip: plaintexts of 0, 1, 32 and 1000 bytes, with nil, short and
//     long associated data, unwrap to what was wrapped; inputs are not
//     modified; the ciphertext does not contain the plaintext.
//   - WrongAssociatedDataFails, TamperedCiphertextFails (every single-bit
//     flip, every truncation, an appended byte), OtherRootKeyFails: each
//     fails with kms.ErrInvalidCiphertext (code piiguard.CodeInvalidCiphertext).
//   - CancelledContext, ExpiredDeadline: Wrap and Unwrap return an error
//     wrapping the context's error.
//   - Concurrent: 100 goroutines round-trip at once (run with -race).
//   - CloseIsIdempotent, UseAfterCloseIsErrClosed, CloseDuringUse.
//   - ErrorsLeakNothing: no error text holds the plaintext (a distinctive
//     "S3CRET-PLAINTEXT-…"), the ciphertext, or the harness's secrets; nor
//     does any formatting of the driver.
//
// Subtests run in parallel; each gets its own drivers and closes them.
func RunDriverTests(t *testing.T, h DriverHarness) {
	t.Helper()
	var secrets [][]byte
	if sh, ok := h.(SecretsHarness); ok {
		secrets = sh.Secrets()
	}
	layers := []struct {
		name string
		wrap func(kms.Driver) kms.Driver
	}{
		{"Driver", func(d kms.Driver) kms.Driver { return d }},
		{"RootKey", func(d kms.Driver) kms.Driver {
			return kms.NewRootKey(d, kms.RootKeyOptions{Name: "kmstest-root-key", BaseDelay: time.Millisecond})
		}},
	}
	tests := []struct {
		name string
		test func(s *driverSuite, t *testing.T)
	}{
		{"RoundTrip", (*driverSuite).testRoundTrip},
		{"WrongAssociatedDataFails", (*driverSuite).testWrongAssociatedData},
		{"TamperedCiphertextFails", (*driverSuite).testTampered},
		{"OtherRootKeyFails", (*driverSuite).testOtherRootKey},
		{"CancelledContext", (*driverSuite).testCancelled},
		{"ExpiredDeadline", (*driverSuite).testDeadline},
		{"Concurrent", (*driverSuite).testConcurrent},
		{"CloseIsIdempotent", (*driverSuite).testCloseIdempotent},
		{"UseAfterCloseIsErrClosed", (*driverSuite).testUseAfterClose},
		{"CloseDuringUse", (*driverSuite).testCloseDuringUse},
		{"ErrorsLeakNothing", (*driverSuite).testErrorsLeakNothing},
	}
	for _, layer := range layers {
		t.Run(layer.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.test(&driverSuite{h: h, wrap: layer.wrap, secrets: secrets}, t)
				})
			}
		})
	}
}

// driverSuite is one run of the suite: the harness and the layer.
type driverSuite struct {
	h       DriverHarness
	wrap    func(kms.Driver) kms.Driver
	secrets [][]byte
}

// driver returns a new driver from the harness, closed at the end of t.
func (s *driverSuite) driver(t *testing.T) kms.Driver {
	t.Helper()
	d, err := s.h.NewDriver(t.Context())
	require.NoError(t, err, "NewDriver")
	require.NotNil(t, d, "NewDriver returned nil")
	d = s.wrap(d)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// otherDriver returns a driver over another root key, closed at the end.
func (s *driverSuite) otherDriver(t *testing.T) kms.Driver {
	t.Helper()
	d, err := s.h.NewOtherDriver(t.Context())
	require.NoError(t, err, "NewOtherDriver")
	require.NotNil(t, d, "NewOtherDriver returned nil")
	d = s.wrap(d)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// wrapped wraps plaintext with d, failing t on error.
func (s *driverSuite) wrapped(t *testing.T, d kms.Driver, plaintext, ad []byte) []byte {
	t.Helper()
	ct, err := d.Wrap(t.Context(), plaintext, ad)
	require.NoError(t, err, "Wrap")
	require.NotEmpty(t, ct, "Wrap returned an empty ciphertext")
	return ct
}

// assertClass checks that err wraps target and that piiguard.ErrorCode says so.
func assertClass(t testing.TB, err, target error, code piiguard.Code, msgAndArgs ...any) bool {
	t.Helper()
	if !assert.ErrorIs(t, err, target, msgAndArgs...) {
		return false
	}
	return assert.Equal(t, code, piiguard.ErrorCode(err), msgAndArgs...)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (s *driverSuite) testRoundTrip(t *testing.T) {
	d := s.driver(t)
	ads := map[string][]byte{
		"nil":   nil,
		"short": []byte("kmstest:record:42"),
		"long":  randBytes(1000),
	}
	for _, size := range []int{0, 1, 32, 1000} {
		for adName, ad := range ads {
			name := fmt.Sprintf("%d bytes, %s associated data", size, adName)
			pt := randBytes(size)
			ptCopy := bytes.Clone(pt)
			adCopy := bytes.Clone(ad)

			ct := s.wrapped(t, d, pt, ad)
			assert.Equal(t, ptCopy, pt, "%s: Wrap modified the plaintext", name)
			assert.Equal(t, adCopy, ad, "%s: Wrap modified the associated data", name)
			if size >= 16 {
				assert.False(t, bytes.Contains(ct, pt), "%s: ciphertext contains the plaintext", name)
			}
			ctCopy := bytes.Clone(ct)

			got, err := d.Unwrap(t.Context(), ct, ad)
			if !assert.NoError(t, err, "%s: Unwrap", name) {
				continue
			}
			assert.True(t, bytes.Equal(pt, got), "%s: Unwrap returned other bytes", name)
			assert.Equal(t, ctCopy, ct, "%s: Unwrap modified the ciphertext", name)

			// The result is the caller's: changing it changes nothing.
			for i := range got {
				got[i] ^= 0xff
			}
			again, err := d.Unwrap(t.Context(), ct, ad)
			if assert.NoError(t, err, "%s: second Unwrap", name) {
				assert.True(t, bytes.Equal(pt, again), "%s: second Unwrap returned other bytes", name)
			}
		}
	}
}

func (s *driverSuite) testWrongAssociatedData(t *testing.T) {
	d := s.driver(t)
	pt := randBytes(32)
	ad := []byte("kmstest:table=customers:row=17")
	ct := s.wrapped(t, d, pt, ad)
	for name, wrong := range map[string][]byte{
		"nil":          nil,
		"other":        []byte("kmstest:table=customers:row=18"),
		"prefix":       ad[:len(ad)-1],
		"extended":     append(bytes.Clone(ad), 0),
		"one bit":      flipBit(ad, 0),
		"wrapped's ct": ct,
	} {
		_, err := d.Unwrap(t.Context(), ct, wrong)
		assertClass(t, err, kms.ErrInvalidCiphertext, piiguard.CodeInvalidCiphertext, "Unwrap with %s associated data", name)
	}

	// And the other way: wrapped with none, unwrapped with some.
	ct = s.wrapped(t, d, pt, nil)
	_, err := d.Unwrap(t.Context(), ct, ad)
	assertClass(t, err, kms.ErrInvalidCiphertext, piiguard.CodeInvalidCiphertext, "Unwrap with associated data of a ciphertext wrapped with none")
}

func flipBit(b []byte, bit int) []byte {
	c := bytes.Clone(b)
	c[bit/8] ^= 1 << (bit % 8)
	return c
}

func (s *driverSuite) testTampered(t *testing.T) {
	d := s.driver(t)
	pt := randBytes(32)
	ad := []byte("kmstest:tamper")
	ct := s.wrapped(t, d, pt, ad)
	fails := func(what string, c []byte) {
		t.Helper()
		_, err := d.Unwrap(t.Context(), c, ad)
		assertClass(t, err, kms.ErrInvalidCiphertext, piiguard.CodeInvalidCiphertext, "Unwrap of %s", what)
	}
	for bit := range 8 * len(ct) {
		fails(fmt.Sprintf("ciphertext with bit %d flipped", bit), flipBit(ct, bit))
	}
	for n := range len(ct) {
		fails(fmt.Sprintf("ciphertext truncated to %d of %d bytes", n, len(ct)), bytes.Clone(ct[:n]))
	}
	fails("nil ciphertext", nil)
	fails("ciphertext with a byte appended", append(bytes.Clone(ct), 0))
	fails("ciphertext twice", append(bytes.Clone(ct), ct...))

	got, err := d.Unwrap(t.Context(), ct, ad)
	require.NoError(t, err, "the untouched ciphertext must still unwrap")
	assert.True(t, bytes.Equal(pt, got))
}

func (s *driverSuite) testOtherRootKey(t *testing.T) {
	a, b := s.driver(t), s.otherDriver(t)
	pt := randBytes(32)
	ad := []byte("kmstest:other")
	ctA := s.wrapped(t, a, pt, ad)
	ctB := s.wrapped(t, b, pt, ad)
	_, err := b.Unwrap(t.Context(), ctA, ad)
	assertClass(t, err, kms.ErrInvalidCiphertext, piiguard.CodeInvalidCiphertext, "other root key unwrapping this one's ciphertext")
	_, err = a.Unwrap(t.Context(), ctB, ad)
	assertClass(t, err, kms.ErrInvalidCiphertext, piiguard.CodeInvalidCiphertext, "this root key unwrapping the other's ciphertext")
}

func (s *driverSuite) testCancelled(t *testing.T) {
	d := s.driver(t)
	ct := s.wrapped(t, d, []byte("kmstest"), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := d.Wrap(ctx, []byte("kmstest"), nil)
	assertClass(t, err, context.Canceled, piiguard.CodeCanceled, "Wrap with a cancelled context")
	_, err = d.Unwrap(ctx, ct, nil)
	assertClass(t, err, context.Canceled, piiguard.CodeCanceled, "Unwrap with a cancelled context")
}

func (s *driverSuite) testDeadline(t *testing.T) {
	d := s.driver(t)
	ct := s.wrapped(t, d, []byte("kmstest"), nil)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := d.Wrap(ctx, []byte("kmstest"), nil)
	assertClass(t, err, context.DeadlineExceeded, piiguard.CodeDeadlineExceeded, "Wrap with an expired deadline")
	_, err = d.Unwrap(ctx, ct, nil)
	assertClass(t, err, context.DeadlineExceeded, piiguard.CodeDeadlineExceeded, "Unwrap with an expired deadline")
}

func (s *driverSuite) testConcurrent(t *testing.T) {
	d := s.driver(t)
	const n = 100
	errs := make(chan error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			ctx := context.Background()
			pt := randBytes(1 + i)
			ad := fmt.Appendf(nil, "kmstest:goroutine=%d", i)
			ct, err := d.Wrap(ctx, pt, ad)
			if err != nil {
				errs <- fmt.Errorf("goroutine %d: Wrap: %w", i, err)
				return
			}
			got, err := d.Unwrap(ctx, ct, ad)
			if err != nil {
				errs <- fmt.Errorf("goroutine %d: Unwrap: %w", i, err)
				return
			}
			if !bytes.Equal(pt, got) {
				errs <- fmt.Errorf("goroutine %d: Unwrap returned other bytes", i)
			}
		})
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func (s *driverSuite) testCloseIdempotent(t *testing.T) {
	d := s.driver(t)
	assert.NoError(t, d.Close(), "first Close")
	assert.NoError(t, d.Close(), "second Close")
}

func (s *driverSuite) testUseAfterClose(t *testing.T) {
	d := s.driver(t)
	ct := s.wrapped(t, d, []byte("kmstest"), nil)
	require.NoError(t, d.Close())
	_, err := d.Wrap(t.Context(), []byte("kmstest"), nil)
	assertClass(t, err, kms.ErrClosed, piiguard.CodeClosed, "Wrap after Close")
	_, err = d.Unwrap(t.Context(), ct, nil)
	assertClass(t, err, kms.ErrClosed, piiguard.CodeClosed, "Unwrap of a valid ciphertext after Close")
}

// testCloseDuringUse closes while other goroutines wrap and unwrap: each
// call either succeeds or fails with ErrClosed, and -race sees no race.
func (s *driverSuite) testCloseDuringUse(t *testing.T) {
	d := s.driver(t)
	ct := s.wrapped(t, d, []byte("kmstest"), nil)
	const n = 20
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ctx := context.Background()
			if _, err := d.Wrap(ctx, []byte("kmstest"), nil); err != nil {
				errs <- err
			}
			got, err := d.Unwrap(ctx, ct, nil)
			if err != nil {
				errs <- err
			} else if string(got) != "kmstest" {
				errs <- errors.New("Unwrap returned other bytes while closing")
			}
		})
	}
	assert.NoError(t, d.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		assertClass(t, err, kms.ErrClosed, piiguard.CodeClosed, "a call racing Close")
	}
}

func (s *driverSuite) testErrorsLeakNothing(t *testing.T) {
	d, other := s.driver(t), s.otherDriver(t)
	pt := []byte("S3CRET-PLAINTEXT-" + hex.EncodeToString(randBytes(8)))
	ad := []byte("kmstest:leak")
	ct := s.wrapped(t, d, pt, ad)
	secrets := append([][]byte{pt, ct}, s.secrets...)

	var errs []error
	add := func(_ []byte, err error) {
		require.Error(t, err)
		errs = append(errs, err)
	}
	add(d.Unwrap(t.Context(), ct, []byte("kmstest:other")))
	add(d.Unwrap(t.Context(), flipBit(ct, 8*len(ct)-1), ad))
	add(d.Unwrap(t.Context(), ct[:len(ct)-1], ad))
	add(other.Unwrap(t.Context(), ct, ad))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	add(d.Wrap(ctx, pt, ad))
	add(d.Unwrap(ctx, ct, ad))

	// Every formatting of the driver, while open.
	forms := driverForms(d)

	require.NoError(t, d.Close())
	add(d.Wrap(t.Context(), pt, ad))
	add(d.Unwrap(t.Context(), ct, ad))

	for _, err := range errs {
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assertNoLeak(t, fmt.Sprintf("an error (code %s)", piiguard.ErrorCode(err)), text, secrets)
		}
	}
	for _, f := range forms {
		assertNoLeak(t, "driver formatted", f, secrets)
	}
}

// driverForms returns d as every common formatting shows it.
func driverForms(d kms.Driver) []string {
	forms := []string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		forms = append(forms, fmt.Sprintf(verb, d))
	}
	if j, err := json.Marshal(d); err == nil {
		forms = append(forms, string(j))
	}
	return forms
}

// assertNoLeak checks that text holds none of the secrets, raw or in a
// common encoding (hex, base64, Go's byte-slice and quoted forms).
func assertNoLeak(t testing.TB, what, text string, secrets [][]byte) {
	t.Helper()
	for _, sec := range secrets {
		if len(sec) < 8 {
			continue
		}
		for _, enc := range []string{
			string(sec),
			hex.EncodeToString(sec), strings.ToUpper(hex.EncodeToString(sec)),
			base64.StdEncoding.EncodeToString(sec), base64.RawURLEncoding.EncodeToString(sec),
			fmt.Sprint(sec), fmt.Sprintf("%q", sec), fmt.Sprintf("%#v", sec),
		} {
			// A 12-character prefix of the encoding is enough to notice a
			// leak, and short enough that a truncated leak is caught too.
			enc = enc[:min(len(enc), 12)]
			if strings.Contains(text, enc) {
				t.Errorf("%s leaks a secret (%d-byte secret found as %q)", what, len(sec), enc)
				break
			}
		}
	}
}

// CountingDriver wraps a kms.Driver, counts its calls, and can simulate an
// outage, for tests of the layers above a driver (RootKey retries, keyring
// caches). It is safe for concurrent use.
//
// Every call to Wrap and Unwrap is counted, including calls that fail. While
// a failure is set (FailWith, SetUnavailable), Wrap and Unwrap return an
// error wrapping it without calling the wrapped driver. Close is counted
// and always passed on.
type CountingDriver struct {
	d       kms.Driver
	wraps   atomic.Int64
	unwraps atomic.Int64
	closes  atomic.Int64
	fail    atomic.Pointer[error]
}

var _ kms.Driver = (*CountingDriver)(nil)

// NewCountingDriver returns a CountingDriver over d.
func NewCountingDriver(d kms.Driver) *CountingDriver { return &CountingDriver{d: d} }

// Wrap counts the call, then fails if a failure is set or calls the
// wrapped driver.
func (c *CountingDriver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	c.wraps.Add(1)
	if err := c.failure(); err != nil {
		return nil, err
	}
	return c.d.Wrap(ctx, plaintext, associatedData)
}

// Unwrap counts the call, then fails if a failure is set or calls the
// wrapped driver.
func (c *CountingDriver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	c.unwraps.Add(1)
	if err := c.failure(); err != nil {
		return nil, err
	}
	return c.d.Unwrap(ctx, ciphertext, associatedData)
}

// Close counts the call and closes the wrapped driver.
func (c *CountingDriver) Close() error {
	c.closes.Add(1)
	return c.d.Close()
}

// FailWith makes every later Wrap and Unwrap fail with an error wrapping
// err (for example kms.ErrPermissionDenied); nil ends the failure.
func (c *CountingDriver) FailWith(err error) {
	if err == nil {
		c.fail.Store(nil)
		return
	}
	c.fail.Store(&err)
}

// SetUnavailable simulates an outage: while on, Wrap and Unwrap fail with
// kms.ErrUnavailable, the class RootKey retries.
func (c *CountingDriver) SetUnavailable(on bool) {
	if on {
		c.FailWith(kms.ErrUnavailable)
	} else {
		c.FailWith(nil)
	}
}

func (c *CountingDriver) failure() error {
	if p := c.fail.Load(); p != nil {
		return fmt.Errorf("kmstest: simulated failure: %w", *p)
	}
	return nil
}

// Wraps returns the number of Wrap calls since creation or Reset.
func (c *CountingDriver) Wraps() int64 { return c.wraps.Load() }

// Unwraps returns the number of Unwrap calls since creation or Reset.
func (c *CountingDriver) Unwraps() int64 { return c.unwraps.Load() }

// Closes returns the number of Close calls since creation or Reset.
func (c *CountingDriver) Closes() int64 { return c.closes.Load() }

// Reset sets the counts to zero; it does not end a failure.
func (c *CountingDriver) Reset() {
	c.wraps.Store(0)
	c.unwraps.Store(0)
	c.closes.Store(0)
}
