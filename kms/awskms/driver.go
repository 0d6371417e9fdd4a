package awskms

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

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/loopback"
	"github.com/piiguard/piiguard/kms"
)

// EncryptionContextKey is the encryption context key under which Wrap and
// Unwrap carry the associated data: {"piiguard-ad": base64(associatedData)}
// (standard base64 with padding). Empty associated data sends no encryption
// context at all.
const EncryptionContextKey = "piiguard-ad"

// maxAssociatedData bounds the associated data, so that its base64 form
// stays well inside what AWS KMS accepts in an encryption context.
const maxAssociatedData = 4096

// Options configures a Driver. The zero value uses the AWS SDK's default
// configuration: region and credentials from the environment, the shared
// config files, or the instance, task or pod role.
type Options struct {
	// Config is the AWS configuration to start from. When nil, it is
	// loaded with config.LoadDefaultConfig. Region, Endpoint and
	// Credentials below override it when set.
	Config *aws.Config
	// Region is the AWS region of the key, for example "eu-west-1". When
	// empty, the region of a key ARN is used, else the SDK's default.
	Region string
	// Endpoint replaces the AWS KMS endpoint, for a VPC endpoint, a FIPS
	// endpoint or an AWS-KMS-compatible server in tests, for example
	// "http://127.0.0.1:4599". It must be an https URL without user
	// information — or http to this machine (localhost, 127.0.0.0/8, ::1).
	Endpoint string
	// InsecureAllowPlaintextHTTP lets an http:// Endpoint reach a host that
	// is not this machine. The data keys the root key wraps and unwraps then
	// cross the network in the clear: set it only where something else
	// encrypts the path.
	InsecureAllowPlaintextHTTP bool
	// Credentials, when set, replaces the SDK's default credential chain;
	// see StaticCredentials. Credentials are never read from a URI.
	Credentials aws.CredentialsProvider
}

// StaticCredentials returns a credentials provider for a fixed access key,
// for tests and for environments where the default chain (environment,
// shared files, IAM roles) does not apply. Prefer roles in production.
func StaticCredentials(accessKeyID, secretAccessKey, sessionToken string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, sessionToken)
}

// Driver is a kms.Driver over one AWS KMS symmetric key. It is safe for
// concurrent use. Its String, GoString, Format, MarshalJSON and LogValue
// name the key and region only, never credentials.
type Driver struct {
	client *awskmsapi.Client
	keyID  string
	region string
	closed atomic.Bool
}

var (
	_ kms.Driver     = (*Driver)(nil)
	_ fmt.Formatter  = (*Driver)(nil)
	_ slog.LogValuer = (*Driver)(nil)
)

// New returns a driver over the AWS KMS key keyID: a key ID, a key ARN, an
// alias name ("alias/my-key") or an alias ARN. It makes no call to AWS KMS:
// a key that does not exist or may not be used shows on the first Wrap.
//
// The SDK's own retries are turned off: kms.RootKey retries the
// ErrUnavailable class a bounded number of times, and two layers of
// retries would multiply the attempts during an outage.
func New(ctx context.Context, keyID string, opts Options) (*Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	region := opts.Region
	if region == "" {
		region = arnRegion(keyID)
	}
	if opts.Endpoint != "" {
		if err := checkEndpoint(opts.Endpoint, opts.InsecureAllowPlaintextHTTP); err != nil {
			return nil, err
		}
	}

	var cfg aws.Config
	if opts.Config != nil {
		cfg = opts.Config.Copy()
	} else {
		var load []func(*awsconfig.LoadOptions) error
		if region != "" {
			load = append(load, awsconfig.WithRegion(region))
		}
		if opts.Credentials != nil {
			load = append(load, awsconfig.WithCredentialsProvider(opts.Credentials))
		}
		var err error
		cfg, err = awsconfig.LoadDefaultConfig(ctx, load...)
		if err != nil {
			// The SDK's text names files and profiles, not secrets.
			return nil, fmt.Errorf("awskms: load AWS configuration: %v: %w", err, kms.ErrInvalidArgument)
		}
	}
	if region != "" {
		cfg.Region = region
	}
	if opts.Credentials != nil {
		cfg.Credentials = opts.Credentials
	}
	if cfg.Region == "" {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "awskms: key %q: no AWS region: set Options.Region, the URI's region parameter, a key ARN or AWS_REGION", keyID)
	}
	client := awskmsapi.NewFromConfig(cfg, func(o *awskmsapi.Options) {
		o.Retryer = aws.NopRetryer{}
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return &Driver{client: client, keyID: keyID, region: cfg.Region}, nil
}

// KeyID returns the key the driver uses, as it was given to New.
func (d *Driver) KeyID() string { return d.keyID }

// Region returns the AWS region the driver calls.
func (d *Driver) Region() string { return d.region }

// Wrap encrypts plaintext (at most MaxPlaintext bytes) with AWS KMS Encrypt,
// the associated data carried as the encryption context
// {EncryptionContextKey: base64(associatedData)}.
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
	out, err := d.client.Encrypt(ctx, &awskmsapi.EncryptInput{
		KeyId:             aws.String(d.keyID),
		Plaintext:         in,
		EncryptionContext: encryptionContext(associatedData),
	})
	if err != nil {
		return nil, d.fail(ctx, "wrap", "Encrypt", err)
	}
	if len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > maxBlob {
		return nil, d.errorf("wrap", "AWS KMS returned a ciphertext blob of %d bytes: %w", len(out.CiphertextBlob), kms.ErrBackend)
	}
	return sealOuter(out.CiphertextBlob), nil
}

// Unwrap decrypts what Wrap returned with AWS KMS Decrypt, naming the
// driver's key (so a ciphertext of any other key fails) and the same
// encryption context.
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
	out, err := d.client.Decrypt(ctx, &awskmsapi.DecryptInput{
		KeyId:             aws.String(d.keyID),
		CiphertextBlob:    blob,
		EncryptionContext: encryptionContext(associatedData),
	})
	if err != nil {
		return nil, d.fail(ctx, "unwrap", "Decrypt", err)
	}
	defer clear(out.Plaintext)
	pt, err := openInner(out.Plaintext)
	if err != nil {
		return nil, d.errorf("unwrap", "%w", err)
	}
	return pt, nil
}

// Close marks the driver closed: later calls fail with kms.ErrClosed. Calls
// already in flight finish. Close is idempotent and always returns nil.
func (d *Driver) Close() error {
	d.closed.Store(true)
	return nil
}

// check refuses calls after Close and with a done context.
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
	return fmt.Errorf("awskms: %s with key %q: %w", op, d.keyID, fmt.Errorf(format, args...))
}

// String names the key and region; it holds no secret.
func (d *Driver) String() string {
	return fmt.Sprintf("awskms.Driver(%s, region %s)", d.keyID, d.region)
}

// GoString is String: the driver's fields are not shown.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb, so that no formatting of the driver
// walks its fields.
func (d *Driver) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// MarshalJSON encodes String.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// LogValue logs the key and region only.
func (d *Driver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("backend", "awskms"), slog.String("key", d.keyID), slog.String("region", d.region))
}

func encryptionContext(ad []byte) map[string]string {
	if len(ad) == 0 {
		return nil
	}
	return map[string]string{EncryptionContextKey: base64.StdEncoding.EncodeToString(ad)}
}

// checkKeyID accepts what AWS KMS accepts as a KeyId: a key ID, key ARN,
// alias name or alias ARN; it refuses what cannot be one.
func checkKeyID(keyID string) error {
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "awskms: key ID %s", reason)
	}
	switch {
	case keyID == "":
		return bad("is empty")
	case len(keyID) > 2048:
		return bad("is too long")
	case strings.ContainsAny(keyID, " \t\r\n?#"):
		return bad("has a space, '?' or '#'")
	case strings.HasPrefix(keyID, "arn:") && len(strings.SplitN(keyID, ":", 6)) != 6:
		return bad("is a malformed ARN")
	case keyID == "alias/" || strings.HasSuffix(keyID, ":alias/"):
		return bad("is an alias without a name")
	}
	return nil
}

// arnRegion returns the region of a key or alias ARN, "" for other IDs.
func arnRegion(keyID string) string {
	if !strings.HasPrefix(keyID, "arn:") {
		return ""
	}
	parts := strings.SplitN(keyID, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[3]
}

func checkEndpoint(endpoint string, allowPlaintext bool) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errtext.Tagged(kms.ErrInvalidArgument, "awskms: endpoint must be an http or https URL")
	}
	if u.User != nil {
		return errtext.Tagged(kms.ErrInvalidArgument, "awskms: endpoint must not carry user information")
	}
	if u.Scheme == "http" && !loopback.Host(u.Host) && !allowPlaintext {
		return errtext.Tagged(kms.ErrInvalidArgument, "awskms: endpoint uses plain http to a host that is not this machine: the data keys would cross the network unencrypted; use https (or, behind an encrypting proxy, Options.InsecureAllowPlaintextHTTP)")
	}
	return nil
}
