package vaulttransit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Driver is a kms.Driver over one Vault Transit key of an AEAD type
// (aes256-gcm96, aes128-gcm96, chacha20-poly1305). It is safe for
// concurrent use. Its String, GoString, Format, MarshalJSON and LogValue
// name the server, mount and key only, never the token.
type Driver struct {
	c           *client
	mount, name string
	closed      atomic.Bool
}

var (
	_ kms.Driver     = (*Driver)(nil)
	_ fmt.Formatter  = (*Driver)(nil)
	_ slog.LogValuer = (*Driver)(nil)
)

// New returns a driver over the Transit key name of the secrets engine
// mounted at mount ("transit" by default when empty) on the Vault server at
// address (for example https://vault.example:8200). It makes no call to
// Vault: a key that does not exist or may not be used shows on the first
// Wrap.
func New(ctx context.Context, address, mount, name string, opts Options) (*Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if mount == "" {
		mount = "transit"
	}
	mount = strings.Trim(mount, "/")
	if err := checkMount(mount); err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	c, err := newClient(address, opts)
	if err != nil {
		return nil, err
	}
	return &Driver{c: c, mount: mount, name: name}, nil
}

// Key returns the key's path below the server: "<mount>/keys/<name>".
func (d *Driver) Key() string { return d.mount + "/keys/" + d.name }

// encryptBody is the JSON body of encrypt, built by hand so that the
// base64 plaintext lives in a buffer that is cleared after use.
func encryptBody(inner, ad []byte) []byte {
	b := make([]byte, 0, 32+base64.StdEncoding.EncodedLen(len(inner))+base64.StdEncoding.EncodedLen(len(ad)))
	b = append(b, `{"plaintext":"`...)
	b = base64.StdEncoding.AppendEncode(b, inner)
	b = append(b, '"')
	if len(ad) > 0 {
		b = append(b, `,"associated_data":"`...)
		b = base64.StdEncoding.AppendEncode(b, ad)
		b = append(b, '"')
	}
	return append(b, '}')
}

// Wrap encrypts plaintext with POST /v1/<mount>/encrypt/<name>, the
// associated data sent as associated_data (base64). It fails closed if
// Vault says it ignored associated_data (Vault older than 1.13, whose
// Transit does not know it).
func (d *Driver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := d.check(ctx, "wrap"); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintext {
		return nil, d.errorf("wrap", "plaintext of %d bytes is over the %d-byte limit: %w", len(plaintext), MaxPlaintext, kms.ErrInvalidArgument)
	}
	if len(associatedData) > maxAssociatedData {
		return nil, d.errorf("wrap", "associated data of %d bytes is over the %d-byte limit: %w", len(associatedData), maxAssociatedData, kms.ErrInvalidArgument)
	}
	inner := sealInner(plaintext)
	body := encryptBody(inner, associatedData)
	clear(inner)
	defer clear(body)
	resp, err := d.c.do(ctx, "wrap", "POST", d.mount+"/encrypt/"+url.PathEscape(d.name), body)
	if err != nil {
		return nil, d.fail(ctx, "wrap", err)
	}
	if err := ignoredAD(resp); err != nil {
		return nil, d.errorf("wrap", "%w", err)
	}
	var data struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return nil, d.errorf("wrap", "the answer has no ciphertext: %w", kms.ErrBackend)
	}
	if _, err := parseCiphertext(data.Ciphertext); err != nil {
		return nil, d.errorf("wrap", "Vault returned a ciphertext of an unexpected form (is the key's version_template the default?): %w", kms.ErrBackend)
	}
	return sealOuter(data.Ciphertext), nil
}

// Unwrap decrypts what Wrap returned with POST
// /v1/<mount>/decrypt/<name>, with the same associated data. The
// ciphertext is checked locally first (see the wire format).
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := d.check(ctx, "unwrap"); err != nil {
		return nil, err
	}
	ct, _, err := openOuter(ciphertext)
	if err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	if len(associatedData) > maxAssociatedData {
		// Wrap refuses such associated data, so nothing was wrapped with it.
		return nil, d.errorf("unwrap", "associated data of %d bytes is over the %d-byte limit: %w", len(associatedData), maxAssociatedData, kms.ErrInvalidCiphertext)
	}
	req := map[string]string{"ciphertext": ct}
	if len(associatedData) > 0 {
		req["associated_data"] = base64.StdEncoding.EncodeToString(associatedData)
	}
	body, _ := json.Marshal(req)
	resp, err := d.c.do(ctx, "unwrap", "POST", d.mount+"/decrypt/"+url.PathEscape(d.name), body)
	if err != nil {
		return nil, d.fail(ctx, "unwrap", err)
	}
	if err := ignoredAD(resp); err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	var data struct {
		Plaintext []byte `json:"plaintext"` // base64 in JSON
	}
	defer clear(resp.Data)
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return nil, d.errorf("unwrap", "the answer has no plaintext: %w", kms.ErrBackend)
	}
	defer clear(data.Plaintext)
	pt, err := openInner(data.Plaintext)
	if err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	return pt, nil
}

// ignoredAD fails if Vault warns that it ignored associated_data: the
// ciphertext would then not be bound to it.
func ignoredAD(resp *response) error {
	for _, w := range resp.Warnings {
		if strings.Contains(w, "associated_data") {
			return fmt.Errorf("Vault ignored associated_data (%s): Transit needs Vault 1.13 or later for it: %w", errtext.Safe(w), kms.ErrBackend)
		}
	}
	return nil
}

// Close marks the driver closed and drops its idle connections: later
// calls fail with kms.ErrClosed; calls in flight finish. Close is
// idempotent and returns nil.
func (d *Driver) Close() error {
	if !d.closed.Swap(true) {
		d.c.close()
	}
	return nil
}

func (d *Driver) check(ctx context.Context, op string) error {
	if d.closed.Load() {
		return d.errorf(op, "%w", kms.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return d.errorf(op, "%w", err)
	}
	return nil
}

func (d *Driver) fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return d.errorf(op, "%w", cerr)
	}
	return d.errorf(op, "%w", err)
}

func (d *Driver) errorf(op, format string, args ...any) error {
	return fmt.Errorf("vaulttransit: %s with key %q at %s: %w", op, d.Key(), d.c.base, fmt.Errorf(format, args...))
}

// String names the server, mount and key; it holds no secret.
func (d *Driver) String() string {
	return fmt.Sprintf("vaulttransit.Driver(%s, %s)", d.c.base, d.Key())
}

// GoString is String: the driver's fields are not shown.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb, so that no formatting of the driver
// walks its fields (the token among them).
func (d *Driver) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// MarshalJSON encodes String.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// LogValue logs the server, mount and key only.
func (d *Driver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("backend", "vaulttransit"), slog.String("address", d.c.base.String()), slog.String("key", d.Key()))
}
