package multi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Backend is one root key of a multi-backend root key.
type Backend struct {
	// Name identifies the backend in every container the Driver writes,
	// so it must stay the same for as long as those containers live:
	// renaming a backend makes its entries unusable. 1–255 bytes of
	// [A-Za-z0-9._:/-], unique, not secret (it appears in errors). For
	// example "hsm-primary", "aws-eu-west-1".
	Name string
	// Driver is the backend's root key. The multi Driver owns it: Close
	// closes it. A *kms.RootKey is a Driver too; give it MaxAttempts 1 so
	// that an outage fails over to the next backend at once, and wrap the
	// multi Driver in a kms.RootKey for retries instead.
	Driver kms.Driver
}

// Options configures a Driver. The zero value is the safe default: every
// backend must wrap, unwraps try backends one at a time, in order.
type Options struct {
	// WrapQuorum is the number of backends that must wrap for Wrap to
	// succeed; 0 means all of them. With all (the default), every
	// container holds an entry for every backend, so losing any backend
	// but one loses nothing, but Wrap (creating or rotating a keyset)
	// fails while any backend is down. A smaller quorum keeps Wrap
	// working during an outage, at the price of containers that the
	// missing backends cannot open: a disaster that takes the backends
	// that did wrap takes those keysets with it.
	WrapQuorum int
	// ParallelUnwrap asks every backend at once and takes the first
	// answer, instead of trying them in order. It hides a slow or hung
	// backend at the cost of calling every backend on every unwrap.
	ParallelUnwrap bool
	// AttemptTimeout bounds one backend's Wrap or Unwrap; a backend that
	// runs out of it counts as unavailable and the next one is tried. 0
	// means no bound beyond the caller's context.
	AttemptTimeout time.Duration
}

// Driver is a root key made of several root keys in different backends
// (a kms.Driver over kms.Drivers), for availability and disaster recovery:
// Wrap wraps under every backend (or a quorum) and packs the results into
// one container; Unwrap opens the container with whichever backend
// answers. See the package documentation for the format and the rules.
//
// A Driver is safe for concurrent use. Its String, GoString, Format,
// LogValue and MarshalJSON list the backends' names and nothing else.
type Driver struct {
	backends []Backend
	index    map[string]int
	quorum   int
	opts     Options
	closed   atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

var _ kms.Driver = (*Driver)(nil)

// New returns a Driver over backends, tried in the order given. It fails
// with kms.ErrInvalidArgument if there are no backends or more than 16, a
// name is invalid or repeated, a Driver is nil, or WrapQuorum is negative
// or above the number of backends. On success the Driver owns the
// backends' drivers.
func New(backends []Backend, opts Options) (*Driver, error) {
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "multi: new: %s", reason)
	}
	if len(backends) == 0 || len(backends) > maxEntries {
		return nil, bad(fmt.Sprintf("needs 1 to %d backends, has %d", maxEntries, len(backends)))
	}
	d := &Driver{backends: append([]Backend(nil), backends...), index: make(map[string]int, len(backends)), opts: opts}
	for i, b := range backends {
		if err := validName(b.Name); err != nil {
			return nil, bad(fmt.Sprintf("backend %d: %v", i, err))
		}
		if _, dup := d.index[b.Name]; dup {
			return nil, bad(fmt.Sprintf("two backends are named %q", b.Name))
		}
		if b.Driver == nil {
			return nil, bad(fmt.Sprintf("backend %q has no driver", b.Name))
		}
		d.index[b.Name] = i
	}
	switch {
	case opts.WrapQuorum < 0 || opts.WrapQuorum > len(backends):
		return nil, bad(fmt.Sprintf("WrapQuorum must be from 0 (all) to %d", len(backends)))
	case opts.WrapQuorum == 0:
		d.quorum = len(backends)
	default:
		d.quorum = opts.WrapQuorum
	}
	if opts.AttemptTimeout < 0 {
		return nil, bad("AttemptTimeout must not be negative")
	}
	return d, nil
}

// Backends returns the backends' names, in order.
func (d *Driver) Backends() []string {
	out := make([]string, len(d.backends))
	for i, b := range d.backends {
		out[i] = b.Name
	}
	return out
}

// String lists the backends and the quorum.
func (d *Driver) String() string {
	return fmt.Sprintf("multi.Driver(backends=%s, wrap quorum=%d)", strings.Join(d.Backends(), ","), d.quorum)
}

// GoString is String.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb.
func (d *Driver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *Driver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// result is one backend's answer.
type result struct {
	i   int
	out []byte
	err error
}

// call runs f for backend i under the attempt timeout. An attempt that
// ran out of its own time (not the caller's) is reported as unavailable.
func (d *Driver) call(ctx context.Context, i int, f func(context.Context, kms.Driver) ([]byte, error)) ([]byte, error) {
	actx := ctx
	if d.opts.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d.opts.AttemptTimeout)
		defer cancel()
	}
	out, err := f(actx, d.backends[i].Driver)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		err = fmt.Errorf("no answer within %v: %w", d.opts.AttemptTimeout, kms.ErrUnavailable)
	}
	return out, err
}

// Wrap wraps plaintext under every backend at once and returns the
// container. It succeeds when at least the quorum of backends wrapped
// (all, by default); the container then holds one entry per backend that
// did. Otherwise it fails with an *Error.
func (d *Driver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := d.precheck(ctx, "wrap"); err != nil {
		return nil, err
	}
	if len(plaintext) > maxBlobLen-commitKeySize-1024 {
		return nil, fmt.Errorf("multi: wrap: plaintext of %d bytes is too large: %w", len(plaintext), kms.ErrInvalidArgument)
	}
	payload := make([]byte, commitKeySize+len(plaintext))
	defer clear(payload)
	if _, err := rand.Read(payload[:commitKeySize]); err != nil {
		return nil, fmt.Errorf("multi: wrap: random key: %w: %w", kms.ErrBackend, err)
	}
	copy(payload[commitKeySize:], plaintext)
	ad := entryAD(associatedData)

	results := make(chan result, len(d.backends))
	for i := range d.backends {
		go func() {
			out, err := d.call(ctx, i, func(ctx context.Context, drv kms.Driver) ([]byte, error) {
				return drv.Wrap(ctx, payload, ad)
			})
			results <- result{i: i, out: out, err: err}
		}()
	}
	blobs := make([][]byte, len(d.backends))
	var failed []BackendError
	for range d.backends {
		r := <-results
		switch {
		case r.err != nil:
			failed = append(failed, BackendError{Backend: d.backends[r.i].Name, Err: r.err})
		case len(r.out) == 0 || len(r.out) > maxBlobLen:
			failed = append(failed, BackendError{Backend: d.backends[r.i].Name, Err: fmt.Errorf("wrapped to %d bytes (1 to %d allowed): %w", len(r.out), maxBlobLen, kms.ErrBackend)})
		default:
			blobs[r.i] = r.out
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("multi: wrap: %w", err)
	}
	var entries []entry
	for i, b := range blobs { // in backend order
		if b != nil {
			entries = append(entries, entry{name: d.backends[i].Name, blob: b})
		}
	}
	if len(entries) < d.quorum {
		return nil, d.newError("wrap", fmt.Sprintf("%d of %d backends wrapped, %d needed", len(entries), len(d.backends), d.quorum), failed, false)
	}
	body := marshalBody(entries)
	return append(body, computeTag(payload[:commitKeySize], associatedData, body)...), nil
}

// Unwrap opens a container made by Wrap with the same associated data,
// with the first backend (in order, or in parallel with
// Options.ParallelUnwrap) that can. Backends named in the container but
// not configured are skipped. It fails with an *Error wrapping
// kms.ErrInvalidCiphertext if the container is malformed or its tag does
// not verify, or if every backend asked said the ciphertext is invalid
// (or none of the container's backends is configured); with
// kms.ErrUnavailable if no backend answered and some were unavailable;
// otherwise with the class of the first backend's error (for example
// kms.ErrPermissionDenied).
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := d.precheck(ctx, "unwrap"); err != nil {
		return nil, err
	}
	c, err := parseContainer(ciphertext)
	if err != nil {
		return nil, err
	}
	var order []int // indexes of the backends to ask, in backend order
	inContainer := make(map[int][]byte, len(c.entries))
	for _, e := range c.entries {
		if i, ok := d.index[e.name]; ok {
			inContainer[i] = e.blob
		}
	}
	for i := range d.backends {
		if _, ok := inContainer[i]; ok {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("multi: unwrap: made under none of this root key's backends: %w", kms.ErrInvalidCiphertext)
	}
	ad := entryAD(associatedData)
	open := func(ctx context.Context, i int) ([]byte, error) {
		payload, err := d.call(ctx, i, func(ctx context.Context, drv kms.Driver) ([]byte, error) {
			return drv.Unwrap(ctx, inContainer[i], ad)
		})
		if err != nil {
			return nil, err
		}
		defer clear(payload)
		if len(payload) < commitKeySize {
			return nil, fmt.Errorf("entry holds %d bytes, less than a commitment key: %w", len(payload), kms.ErrInvalidCiphertext)
		}
		if !hmac.Equal(computeTag(payload[:commitKeySize], associatedData, c.body), c.tag) {
			return nil, errTag
		}
		return append([]byte{}, payload[commitKeySize:]...), nil
	}

	var failed []BackendError
	if d.opts.ParallelUnwrap {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		results := make(chan result, len(order))
		for _, i := range order {
			go func() {
				out, err := open(pctx, i)
				results <- result{i: i, out: out, err: err}
			}()
		}
		for range order {
			r := <-results
			if r.err == nil {
				return r.out, nil
			}
			if errors.Is(r.err, errTag) {
				return nil, fmt.Errorf("multi: unwrap: %w", r.err)
			}
			failed = append(failed, BackendError{Backend: d.backends[r.i].Name, Err: r.err})
		}
	} else {
		for _, i := range order {
			out, err := open(ctx, i)
			if err == nil {
				return out, nil
			}
			if errors.Is(err, errTag) {
				return nil, fmt.Errorf("multi: unwrap: %w", err)
			}
			failed = append(failed, BackendError{Backend: d.backends[i].Name, Err: err})
			if ctx.Err() != nil {
				break
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("multi: unwrap: %w", err)
	}
	return nil, d.newError("unwrap", "no backend could unwrap", failed, true)
}

// errTag is the error of a container whose tag does not verify: a backend
// opened its entry, so the container itself was changed.
var errTag = fmt.Errorf("container tag does not verify: %w", kms.ErrInvalidCiphertext)

func (d *Driver) precheck(ctx context.Context, op string) error {
	if d.closed.Load() {
		return fmt.Errorf("multi: %s: %w", op, kms.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("multi: %s: %w", op, err)
	}
	return nil
}

// Close closes every backend's driver, even if one fails, and returns the
// first error. It is idempotent; Wrap and Unwrap fail with kms.ErrClosed
// afterwards.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.closed.Store(true)
		for _, b := range d.backends {
			if err := b.Driver.Close(); err != nil && d.closeErr == nil {
				d.closeErr = fmt.Errorf("multi: close backend %q: %w", b.Name, err)
			}
		}
	})
	return d.closeErr
}
