package gcpkms

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"

	kmsapi "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Options configures a Driver. The zero value uses Application Default
// Credentials and the public Cloud KMS endpoint.
type Options struct {
	// ClientOptions are passed to the Cloud KMS client when the driver
	// makes one: option.WithEndpoint, option.WithCredentialsFile,
	// option.WithTokenSource, and so on. By default the client uses
	// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the
	// gcloud user, or the workload's service account).
	ClientOptions []option.ClientOption
	// Client, when set, is used instead of making a client (ClientOptions
	// are then ignored). The driver does not close a client it was given.
	Client *kmsapi.KeyManagementClient
}

// Driver is a kms.Driver over one Cloud KMS CryptoKey of purpose
// ENCRYPT_DECRYPT. It is safe for concurrent use. Its String, GoString,
// Format, MarshalJSON and LogValue name the key only.
type Driver struct {
	client    *kmsapi.KeyManagementClient
	ownClient bool
	name      string

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ kms.Driver     = (*Driver)(nil)
	_ fmt.Formatter  = (*Driver)(nil)
	_ slog.LogValuer = (*Driver)(nil)
)

var keyNameRE = regexp.MustCompile(`^projects/[a-z0-9\-.:]+/locations/[a-zA-Z0-9_\-]+/keyRings/[a-zA-Z0-9_\-]+/cryptoKeys/[a-zA-Z0-9_\-]+$`)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) *wrapperspb.Int64Value {
	return wrapperspb.Int64(int64(crc32.Checksum(b, crcTable)))
}

// noRetry turns off the client library's retries (it retries UNAVAILABLE
// for up to a minute by default): kms.RootKey retries ErrUnavailable a
// bounded number of times, and two layers of retries would make an outage
// take minutes to report.
var noRetry = gax.WithRetry(nil)

// New returns a driver over the Cloud KMS CryptoKey keyName, of the form
// projects/P/locations/L/keyRings/R/cryptoKeys/K. Wrap uses the key's
// primary version; Unwrap lets Cloud KMS pick the version that made the
// ciphertext. New makes no call to Cloud KMS: a key that does not exist or
// may not be used shows on the first Wrap.
func New(ctx context.Context, keyName string, opts Options) (*Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !keyNameRE.MatchString(keyName) {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "gcpkms: key name must be projects/P/locations/L/keyRings/R/cryptoKeys/K")
	}
	d := &Driver{name: keyName, client: opts.Client}
	if d.client == nil {
		c, err := kmsapi.NewKeyManagementClient(ctx, opts.ClientOptions...)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("gcpkms: key %q: new client: %w", keyName, cerr)
			}
			// The text names the credential source, not a secret.
			return nil, fmt.Errorf("gcpkms: key %q: new client: %s: %w", keyName, errtext.Safe(err.Error()), kms.ErrInvalidArgument)
		}
		d.client, d.ownClient = c, true
	}
	return d, nil
}

// KeyName returns the CryptoKey the driver uses.
func (d *Driver) KeyName() string { return d.name }

// Wrap encrypts plaintext (at most MaxPlaintext bytes) with Cloud KMS
// Encrypt, associatedData as its additional_authenticated_data. It sends
// the CRC32C of both and checks the CRC32C Cloud KMS returns, as Google
// recommends: a request or response corrupted in transit fails with
// kms.ErrUnavailable, which kms.RootKey retries.
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
	in := sealInner(plaintext)
	defer clear(in)
	resp, err := d.client.Encrypt(ctx, &kmspb.EncryptRequest{
		Name:                              d.name,
		Plaintext:                         in,
		PlaintextCrc32C:                   crc32c(in),
		AdditionalAuthenticatedData:       associatedData,
		AdditionalAuthenticatedDataCrc32C: crc32c(associatedData),
	}, noRetry)
	if err != nil {
		return nil, d.fail(ctx, "wrap", "Encrypt", err)
	}
	switch {
	case !resp.GetVerifiedPlaintextCrc32C():
		return nil, d.errorf("wrap", "Encrypt: Cloud KMS did not verify the plaintext checksum (request corrupted in transit): %w", kms.ErrUnavailable)
	case !resp.GetVerifiedAdditionalAuthenticatedDataCrc32C():
		return nil, d.errorf("wrap", "Encrypt: Cloud KMS did not verify the associated data checksum (request corrupted in transit): %w", kms.ErrUnavailable)
	case resp.GetCiphertextCrc32C() == nil || resp.GetCiphertextCrc32C().GetValue() != crc32c(resp.GetCiphertext()).GetValue():
		return nil, d.errorf("wrap", "Encrypt: ciphertext checksum mismatch (response corrupted in transit): %w", kms.ErrUnavailable)
	case len(resp.GetCiphertext()) == 0 || len(resp.GetCiphertext()) > maxBlob:
		return nil, d.errorf("wrap", "Encrypt: Cloud KMS returned a ciphertext of %d bytes: %w", len(resp.GetCiphertext()), kms.ErrBackend)
	}
	return sealOuter(resp.GetCiphertext()), nil
}

// Unwrap decrypts what Wrap returned with Cloud KMS Decrypt, with the same
// associated data. It sends the CRC32C of the ciphertext and associated
// data and checks the CRC32C of the plaintext Cloud KMS returns.
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := d.check(ctx, "unwrap"); err != nil {
		return nil, err
	}
	blob, err := openOuter(ciphertext)
	if err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	if len(associatedData) > maxAssociatedData {
		// Wrap refuses such associated data, so nothing was wrapped with it.
		return nil, d.errorf("unwrap", "associated data of %d bytes is over the %d-byte limit: %w", len(associatedData), maxAssociatedData, kms.ErrInvalidCiphertext)
	}
	resp, err := d.client.Decrypt(ctx, &kmspb.DecryptRequest{
		Name:                              d.name,
		Ciphertext:                        blob,
		CiphertextCrc32C:                  crc32c(blob),
		AdditionalAuthenticatedData:       associatedData,
		AdditionalAuthenticatedDataCrc32C: crc32c(associatedData),
	}, noRetry)
	if err != nil {
		return nil, d.fail(ctx, "unwrap", "Decrypt", err)
	}
	defer clear(resp.Plaintext)
	if resp.GetPlaintextCrc32C() == nil || resp.GetPlaintextCrc32C().GetValue() != crc32c(resp.GetPlaintext()).GetValue() {
		return nil, d.errorf("unwrap", "Decrypt: plaintext checksum mismatch (response corrupted in transit): %w", kms.ErrUnavailable)
	}
	pt, err := openInner(resp.GetPlaintext())
	if err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	return pt, nil
}

// Close closes the Cloud KMS client if the driver made it. Later calls
// fail with kms.ErrClosed, and so do calls in flight that the closing
// interrupts. Close is idempotent.
func (d *Driver) Close() error {
	d.closed.Store(true)
	d.closeOnce.Do(func() {
		if d.ownClient {
			if err := d.client.Close(); err != nil {
				d.closeErr = d.errorf("close", "%s: %w", errtext.Safe(err.Error()), kms.ErrBackend)
			}
		}
	})
	return d.closeErr
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

func (d *Driver) errorf(op, format string, args ...any) error {
	return fmt.Errorf("gcpkms: %s with key %q: %w", op, d.name, fmt.Errorf(format, args...))
}

// String names the key; it holds no secret.
func (d *Driver) String() string { return "gcpkms.Driver(" + d.name + ")" }

// GoString is String: the driver's fields are not shown.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb, so that no formatting of the driver
// walks its fields.
func (d *Driver) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// MarshalJSON encodes String.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// LogValue logs the key only.
func (d *Driver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("backend", "gcpkms"), slog.String("key", d.name))
}
