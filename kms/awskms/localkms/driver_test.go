package localkms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func TestConformance(t *testing.T) {
	keyA := createKey(t, "piiguard conformance A")
	keyB := createKey(t, "piiguard conformance B")
	open := func(keyID string) func(context.Context) (kms.Driver, error) {
		return func(ctx context.Context) (kms.Driver, error) {
			return awskms.New(ctx, keyID, testOptions(lk.srv.URL))
		}
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{
		New:      open(keyA),
		NewOther: open(keyB),
		Secret:   [][]byte{[]byte(testSecretAccessKey), []byte(testAccessKeyID)},
	})
}

func TestConformanceWithAlias(t *testing.T) {
	keyA := createKey(t, "piiguard alias A")
	keyB := createKey(t, "piiguard alias B")
	admin := adminClient(t)
	// Unique names: the in-process server lives as long as the test binary
	// (go test -count=N runs this test N times against it).
	aliasA, aliasB := uniqueAlias("piiguard-conf-a"), uniqueAlias("piiguard-conf-b")
	for alias, key := range map[string]string{aliasA: keyA, aliasB: keyB} {
		_, err := admin.CreateAlias(t.Context(), &awskmsapi.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(key)})
		require.NoError(t, err)
	}
	open := func(keyID string) func(context.Context) (kms.Driver, error) {
		return func(ctx context.Context) (kms.Driver, error) {
			return awskms.New(ctx, keyID, testOptions(lk.srv.URL))
		}
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{
		New:      open(aliasA),
		NewOther: open(aliasB),
		Secret:   [][]byte{[]byte(testSecretAccessKey)},
	})
}

func TestAssociatedDataIsTheEncryptionContext(t *testing.T) {
	key := createKey(t, "piiguard context")
	d := newDriver(t, key)
	ad := []byte("piiguard.keyset.v1\x00customers\x00aead")
	secret := []byte("a 32-byte data key for the test!")
	wrapped, err := d.Wrap(t.Context(), secret, ad)
	require.NoError(t, err)
	require.Equal(t, byte(0x01), wrapped[0], "format byte")

	// The documented format: AWS KMS itself opens wrapped[1:] with the
	// encryption context {"piiguard-ad": base64(ad)}, to 0x01 || secret.
	out, err := adminClient(t).Decrypt(t.Context(), &awskmsapi.DecryptInput{
		CiphertextBlob:    wrapped[1:],
		KeyId:             aws.String(key),
		EncryptionContext: map[string]string{awskms.EncryptionContextKey: base64.StdEncoding.EncodeToString(ad)},
	})
	require.NoError(t, err)
	assert.Equal(t, append([]byte{0x01}, secret...), out.Plaintext)

	// Any other context fails as invalid ciphertext.
	for name, wrong := range map[string][]byte{
		"none":      nil,
		"other":     []byte("piiguard.keyset.v1\x00orders\x00aead"),
		"truncated": ad[:len(ad)-1],
	} {
		_, err := d.Unwrap(t.Context(), wrapped, wrong)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}

func TestEmptyPlaintextNeverReachesAWSKMS(t *testing.T) {
	// AWS KMS refuses an empty Plaintext; the driver sends 0x01 || secret.
	var sawEmpty atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "TrentService.Encrypt" {
			var body bytes.Buffer
			_, _ = body.ReadFrom(r.Body)
			if !strings.Contains(body.String(), `"Plaintext":"`) || strings.Contains(body.String(), `"Plaintext":""`) {
				sawEmpty.Store(true)
			}
			r.Body = readCloser{bytes.NewReader(body.Bytes())}
		}
		lk.ServeHTTP(w, r)
	}))
	defer srv.Close()
	d, err := awskms.New(t.Context(), createKey(t, "piiguard empty"), testOptions(srv.URL))
	require.NoError(t, err)
	wrapped, err := d.Wrap(t.Context(), []byte{}, []byte("ad"))
	require.NoError(t, err)
	got, err := d.Unwrap(t.Context(), wrapped, []byte("ad"))
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.False(t, sawEmpty.Load(), "AWS KMS was sent an empty plaintext")
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func TestPlaintextLimit(t *testing.T) {
	d := newDriver(t, createKey(t, "piiguard limit"))
	// Through a RootKey, as applications use drivers: a transient fault of
	// the in-process server under a loaded machine is retried, as it
	// would be in production.
	rk := kms.NewRootKey(newDriver(t, d.KeyID()), kms.RootKeyOptions{})
	max := bytes.Repeat([]byte{0xa5}, awskms.MaxPlaintext)
	wrapped, err := rk.Wrap(t.Context(), max, nil)
	require.NoError(t, err, "a plaintext of MaxPlaintext bytes")
	got, err := rk.Unwrap(t.Context(), wrapped, nil)
	require.NoError(t, err)
	assert.Equal(t, max, got)

	_, err = d.Wrap(t.Context(), append(max, 0), nil)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	assert.NotContains(t, err.Error(), string(max[:16]))
}

func TestDisabledKey(t *testing.T) {
	key := createKey(t, "piiguard disabled")
	d := newDriver(t, key)
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	admin := adminClient(t)
	_, err = admin.DisableKey(t.Context(), &awskmsapi.DisableKeyInput{KeyId: aws.String(key)})
	require.NoError(t, err)

	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrDisabled, "Wrap with a disabled key (DisabledException)")
	assert.Contains(t, err.Error(), "DisabledException")
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	// AWS KMS answers DisabledException (ErrDisabled, see TestErrorMapping);
	// local-kms hides every key problem on Decrypt behind AccessDenied.
	assert.True(t, piiguard.ErrorCode(err) == piiguard.CodeDisabled || piiguard.ErrorCode(err) == piiguard.CodePermissionDenied,
		"Unwrap with a disabled key: %v", err)

	_, err = admin.EnableKey(t.Context(), &awskmsapi.EnableKeyInput{KeyId: aws.String(key)})
	require.NoError(t, err)
	got, err := d.Unwrap(t.Context(), wrapped, nil)
	require.NoError(t, err, "Unwrap after EnableKey")
	assert.Equal(t, "data key", string(got))
}

func TestKeyPendingDeletion(t *testing.T) {
	key := createKey(t, "piiguard pending deletion")
	_, err := adminClient(t).ScheduleKeyDeletion(t.Context(), &awskmsapi.ScheduleKeyDeletionInput{
		KeyId: aws.String(key), PendingWindowInDays: aws.Int32(7),
	})
	require.NoError(t, err)
	_, err = newDriver(t, key).Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrDisabled, "KMSInvalidStateException")
	assert.Contains(t, err.Error(), "KMSInvalidStateException")
}

func TestUnknownKey(t *testing.T) {
	d := newDriver(t, "arn:aws:kms:"+testRegion+":"+testAccount+":key/00000000-0000-4000-8000-000000000000")
	_, err := d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.Contains(t, err.Error(), "NotFoundException")

	// A ciphertext made under a real key, unwrapped naming the unknown
	// one: AWS KMS (and local-kms) answer AccessDenied rather than say
	// whether the key exists.
	wrapped, err := newDriver(t, createKey(t, "piiguard known")).Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	assert.True(t, piiguard.ErrorCode(err) == piiguard.CodePermissionDenied || piiguard.ErrorCode(err) == piiguard.CodeNotFound, "%v", err)

	_, err = newDriver(t, "alias/piiguard-no-such-alias").Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestTamperedCiphertext(t *testing.T) {
	d := newDriver(t, createKey(t, "piiguard tamper"))
	ad := []byte("row 7")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), ad)
	require.NoError(t, err)
	for name, c := range map[string][]byte{
		"format byte":       append([]byte{0x02}, wrapped[1:]...),
		"last byte flipped": append(bytes.Clone(wrapped[:len(wrapped)-1]), wrapped[len(wrapped)-1]^1),
		"blob only":         wrapped[1:],
		"format byte only":  wrapped[:1],
		"cut in the nonce":  wrapped[:len(wrapped)-40],
	} {
		_, err := d.Unwrap(t.Context(), c, ad)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}

func TestClosedDriver(t *testing.T) {
	d := newDriver(t, createKey(t, "piiguard closed"))
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	_, err := d.Wrap(t.Context(), []byte("x"), nil)
	assert.ErrorIs(t, err, kms.ErrClosed)
}

func TestServerDownIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(lk.Server)
	key := createKey(t, "piiguard outage")
	d, err := awskms.New(t.Context(), key, testOptions(srv.URL))
	require.NoError(t, err)
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	srv.Close() // the server stops mid-test
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)

	// Through a RootKey: bounded retries, then a clear unavailable error.
	rk := kms.NewRootKey(d, kms.RootKeyOptions{Name: "awskms-outage", MaxAttempts: 3, BaseDelay: time.Millisecond})
	_, err = rk.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "awskms-outage")
}

func TestThrottlingIsRetriedByRootKey(t *testing.T) {
	var calls, throttled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			throttled.Add(1)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		lk.ServeHTTP(w, r)
	}))
	defer srv.Close()
	d, err := awskms.New(t.Context(), createKey(t, "piiguard throttled"), testOptions(srv.URL))
	require.NoError(t, err)
	rk := kms.NewRootKey(d, kms.RootKeyOptions{MaxAttempts: 3, BaseDelay: time.Millisecond})
	defer rk.Close()
	wrapped, err := rk.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err, "the third attempt succeeds")
	assert.EqualValues(t, 2, throttled.Load())
	assert.EqualValues(t, 3, calls.Load(), "the SDK does not retry on its own: RootKey does")
	got, err := rk.Unwrap(t.Context(), wrapped, nil)
	require.NoError(t, err)
	assert.Equal(t, "data key", string(got))
}

func TestFormattingNamesKeyOnly(t *testing.T) {
	d := newDriver(t, "alias/piiguard-format")
	assert.Equal(t, "awskms.Driver(alias/piiguard-format, region "+testRegion+")", d.String())
	assert.Equal(t, d.String(), d.GoString())
	assert.Equal(t, d.KeyID(), "alias/piiguard-format")
	assert.Equal(t, d.Region(), testRegion)
}

func TestNewValidatesArguments(t *testing.T) {
	for name, tc := range map[string]struct {
		key  string
		opts awskms.Options
	}{
		"empty key":          {"", testOptions(lk.srv.URL)},
		"key with space":     {"alias/a b", testOptions(lk.srv.URL)},
		"bad ARN":            {"arn:aws:kms", testOptions(lk.srv.URL)},
		"alias without name": {"alias/", testOptions(lk.srv.URL)},
		"endpoint not a URL": {"alias/x", awskms.Options{Region: testRegion, Endpoint: "127.0.0.1:1"}},
		"endpoint with user": {"alias/x", awskms.Options{Region: testRegion, Endpoint: "http://user:" + testSecretAccessKey + "@127.0.0.1:1"}},
	} {
		_, err := awskms.New(t.Context(), tc.key, tc.opts)
		if assert.ErrorIs(t, err, kms.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), testSecretAccessKey, name)
		}
	}
}

func TestRegionFromARN(t *testing.T) {
	d, err := awskms.New(t.Context(), "arn:aws:kms:ap-south-1:"+testAccount+":key/1234abcd-12ab-34cd-56ef-1234567890ab",
		awskms.Options{Credentials: awskms.StaticCredentials(testAccessKeyID, testSecretAccessKey, "")})
	require.NoError(t, err)
	assert.Equal(t, "ap-south-1", d.Region())
}

var aliasCount atomic.Int64

// uniqueAlias returns "alias/NAME-N" with N unique in the test binary.
func uniqueAlias(name string) string {
	return fmt.Sprintf("alias/%s-%d", name, aliasCount.Add(1))
}
