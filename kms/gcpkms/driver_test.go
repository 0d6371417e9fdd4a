package gcpkms_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/gcpkms"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func TestConformance(t *testing.T) {
	f := startFakeKMS(t)
	keyA, keyB := f.createKey(t, "conformance-a"), f.createKey(t, "conformance-b")
	open := func(key string) func(context.Context) (kms.Driver, error) {
		return func(ctx context.Context) (kms.Driver, error) {
			return gcpkms.New(ctx, key, gcpkms.Options{ClientOptions: f.clientOptions()})
		}
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{
		New:      open(keyA),
		NewOther: open(keyB),
		Secret:   [][]byte{[]byte(testToken)},
	})
}

func TestConformanceWithSharedClient(t *testing.T) {
	f := startFakeKMS(t)
	client := newClient(t, f)
	keyA, keyB := f.createKey(t, "shared-a"), f.createKey(t, "shared-b")
	open := func(key string) func(context.Context) (kms.Driver, error) {
		return func(ctx context.Context) (kms.Driver, error) {
			return gcpkms.New(ctx, key, gcpkms.Options{Client: client})
		}
	}
	kmstest.RunDriverTests(t, kmstest.HarnessFuncs{New: open(keyA), NewOther: open(keyB), Secret: [][]byte{[]byte(testToken)}})

	// Closing drivers left the shared client open.
	d := newDriver(t, f, keyA)
	_, err := d.Wrap(t.Context(), []byte("x"), nil)
	require.NoError(t, err)
	d2, err := gcpkms.New(t.Context(), keyA, gcpkms.Options{Client: client})
	require.NoError(t, err)
	require.NoError(t, d2.Close())
	_, err = client.Encrypt(t.Context(), &kmspb.EncryptRequest{Name: keyA, Plaintext: []byte("x")})
	assert.NoError(t, err, "the client given in Options is not closed by the driver")
}

func TestAssociatedDataIsAdditionalAuthenticatedData(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "aad")
	d := newDriver(t, f, key)
	ad := []byte("piiguard.keyset.v1\x00customers\x00aead")
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), ad)
	require.NoError(t, err)
	require.Equal(t, byte(0x01), wrapped[0])

	// The documented format: Cloud KMS itself decrypts wrapped[1:] with
	// ad as additional_authenticated_data, to 0x01 || secret.
	resp, err := newClient(t, f).Decrypt(t.Context(), &kmspb.DecryptRequest{Name: key, Ciphertext: wrapped[1:], AdditionalAuthenticatedData: ad})
	require.NoError(t, err)
	assert.Equal(t, []byte("\x01data key"), resp.GetPlaintext())

	_, err = d.Unwrap(t.Context(), wrapped, []byte("piiguard.keyset.v1\x00orders\x00aead"))
	assert.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.Contains(t, err.Error(), "InvalidArgument")
}

func TestRotationKeepsOldVersionsDecrypting(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "rotation")
	d := newDriver(t, f, key)
	v1, err := d.Wrap(t.Context(), []byte("under v1"), nil)
	require.NoError(t, err)
	f.rotate(key)
	v2, err := d.Wrap(t.Context(), []byte("under v2"), nil)
	require.NoError(t, err)
	for want, w := range map[string][]byte{"under v1": v1, "under v2": v2} {
		got, err := d.Unwrap(t.Context(), w, nil)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}

	f.setState(key, 1, kmspb.CryptoKeyVersion_DISABLED)
	_, err = d.Unwrap(t.Context(), v1, nil)
	assert.ErrorIs(t, err, kms.ErrDisabled, "a disabled version")
	assert.Contains(t, err.Error(), "FailedPrecondition")
	f.setState(key, 1, kmspb.CryptoKeyVersion_DESTROYED)
	_, err = d.Unwrap(t.Context(), v1, nil)
	assert.ErrorIs(t, err, kms.ErrDestroyed, "a destroyed version")
	_, err = d.Unwrap(t.Context(), v2, nil)
	assert.NoError(t, err, "the primary still decrypts")

	f.setState(key, 2, kmspb.CryptoKeyVersion_DISABLED)
	_, err = d.Wrap(t.Context(), []byte("x"), nil)
	assert.ErrorIs(t, err, kms.ErrDisabled, "Wrap with a disabled primary")
}

func TestKeyNotFoundAndPermissionDenied(t *testing.T) {
	f := startFakeKMS(t)
	known := f.createKey(t, "known")
	wrapped, err := newDriver(t, f, known).Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	missing := newDriver(t, f, testKeyRing+"/cryptoKeys/missing")
	_, err = missing.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrNotFound)
	assert.Contains(t, err.Error(), "NotFound")
	_, err = missing.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrNotFound)

	f.deny(known)
	d := newDriver(t, f, known)
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.Contains(t, err.Error(), "cloudkms.cryptoKeyVersions.useToEncrypt")
	_, err = d.Unwrap(t.Context(), wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
}

func TestUnauthenticated(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "unauthenticated")
	d, err := gcpkms.New(t.Context(), key, gcpkms.Options{ClientOptions: clientOptionsFor(f.addr, "ya29.wrong-token")})
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrPermissionDenied)
	assert.Contains(t, err.Error(), "Unauthenticated")
}

func TestIntegrityChecks(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "integrity")
	d := newDriver(t, f, key)
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	require.NoError(t, err)

	f.corrupt.Store(true) // responses corrupted in transit, CRC32C unchanged
	_, err = d.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrUnavailable, "a corrupted ciphertext is caught by its CRC32C")
	assert.Contains(t, err.Error(), "checksum")
	_, err = d.Unwrap(t.Context(), wrapped, []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrUnavailable, "a corrupted plaintext is caught by its CRC32C")
	f.corrupt.Store(false)

	f.unverified.Store(true) // the server did not verify the request checksum
	_, err = d.Wrap(t.Context(), []byte("data key"), []byte("ad"))
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	assert.Contains(t, err.Error(), "did not verify")
	f.unverified.Store(false)

	got, err := d.Unwrap(t.Context(), wrapped, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "data key", string(got))
}

func TestTransientFailuresAreRetriedByRootKey(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.Internal, codes.DeadlineExceeded} {
		t.Run(code.String(), func(t *testing.T) {
			f := startFakeKMS(t)
			d := newDriver(t, f, f.createKey(t, "transient"))
			f.failNext(1, code)
			_, err := d.Wrap(t.Context(), []byte("data key"), nil)
			assert.ErrorIs(t, err, kms.ErrUnavailable)

			rk := kms.NewRootKey(d, kms.RootKeyOptions{MaxAttempts: 3, BaseDelay: time.Millisecond})
			f.failNext(2, code)
			before := f.calls.Load()
			wrapped, err := rk.Wrap(t.Context(), []byte("data key"), nil)
			require.NoError(t, err, "the third attempt succeeds")
			assert.EqualValues(t, 3, f.calls.Load()-before, "the client library does not retry on its own: RootKey does")
			_, err = rk.Unwrap(t.Context(), wrapped, nil)
			assert.NoError(t, err)
		})
	}
}

func TestServerDownIsUnavailable(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "outage")
	d := newDriver(t, f, key)
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)

	// A driver whose server is gone: nothing listens on its address.
	down := startFakeKMS(t)
	down.createKey(t, "outage")
	dd := newDriver(t, down, key)
	stopFake(t, down)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = dd.Wrap(ctx, []byte("data key"), nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
	_, err = dd.Unwrap(ctx, wrapped, nil)
	assert.ErrorIs(t, err, kms.ErrUnavailable)
}

func TestTamperedCiphertext(t *testing.T) {
	f := startFakeKMS(t)
	d := newDriver(t, f, f.createKey(t, "tamper"))
	wrapped, err := d.Wrap(t.Context(), []byte("data key"), nil)
	require.NoError(t, err)
	for name, c := range map[string][]byte{
		"format byte":      append([]byte{0x02}, wrapped[1:]...),
		"version field":    append([]byte{0x01, 0, 0, 0, 9}, wrapped[5:]...),
		"last bit":         append(bytes.Clone(wrapped[:len(wrapped)-1]), wrapped[len(wrapped)-1]^1),
		"format byte only": wrapped[:1],
	} {
		_, err := d.Unwrap(t.Context(), c, nil)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}

func TestPlaintextLimits(t *testing.T) {
	f := startFakeKMS(t)
	d := newDriver(t, f, f.createKey(t, "limits"))
	max := bytes.Repeat([]byte{0x5a}, gcpkms.MaxPlaintext)
	wrapped, err := d.Wrap(t.Context(), max, nil)
	require.NoError(t, err)
	got, err := d.Unwrap(t.Context(), wrapped, nil)
	require.NoError(t, err)
	assert.Equal(t, max, got)
	_, err = d.Wrap(t.Context(), append(max, 0), nil)
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
	_, err = d.Wrap(t.Context(), []byte("x"), make([]byte, 64*1024+1))
	assert.ErrorIs(t, err, kms.ErrInvalidArgument)
}

func TestNewRefusesMalformedKeyNames(t *testing.T) {
	for _, name := range []string{
		"",
		"projects/p/locations/l/keyRings/r",
		"projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
		"projects/p/locations/l/keyRings/r/cryptoKeys/k?x",
		"/projects/p/locations/l/keyRings/r/cryptoKeys/k",
	} {
		_, err := gcpkms.New(t.Context(), name, gcpkms.Options{ClientOptions: clientOptionsFor("127.0.0.1:1", testToken)})
		assert.ErrorIs(t, err, kms.ErrInvalidArgument, name)
	}
}

func TestFormattingNamesKeyOnly(t *testing.T) {
	f := startFakeKMS(t)
	key := f.createKey(t, "format")
	d := newDriver(t, f, key)
	assert.Equal(t, "gcpkms.Driver("+key+")", d.String())
	assert.Equal(t, key, d.KeyName())
}
