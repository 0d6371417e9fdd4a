package gcpkms_test

// There is no Cloud KMS emulator. The tests run against fakeKMS, a gRPC
// server started in the test process on 127.0.0.1 that implements the
// KeyManagementService Encrypt and Decrypt RPCs as the Cloud KMS reference
// documents them: real AES-256-GCM per CryptoKeyVersion, additional
// authenticated data bound to the ciphertext, the CRC32C integrity fields
// checked on requests and set on responses, primary versions and rotation,
// version states (FAILED_PRECONDITION when not enabled), NOT_FOUND,
// PERMISSION_DENIED and UNAUTHENTICATED statuses, and the documented size
// limits. The real client library (cloud.google.com/go/kms/apiv1) talks to
// it over an insecure connection with a bearer token of the tests' own.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	kmsapi "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/piiguard/piiguard/kms/gcpkms"
)

// testToken is the bearer token the tests' clients send and fakeKMS
// requires. The suite checks that it never shows in an error or a
// formatting of the driver.
const testToken = "ya29.piiguard-test-SECRET-access-token-0123456789"

const testKeyRing = "projects/piiguard-test/locations/europe-west2/keyRings/piiguard"

var (
	cryptoKeyRE = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
	versionRE   = regexp.MustCompile(`^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/([0-9]+)$`)
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

type fakeKMS struct {
	kmspb.UnimplementedKeyManagementServiceServer

	addr string
	stop func()

	mu     sync.Mutex
	keys   map[string]*fakeKey // by CryptoKey name
	denied map[string]bool     // CryptoKeys the caller has no IAM grant on

	// Fault injection.
	failCount   atomic.Int32 // the next failCount calls fail with failCode
	failCode    atomic.Int32
	corrupt     atomic.Bool // flip a bit of the returned ciphertext or plaintext, keep its CRC32C
	unverified  atomic.Bool // claim the request checksums were not verified
	calls       atomic.Int64
	tokenChecks atomic.Int64
}

type fakeKey struct {
	versions map[int]*fakeVersion
	latest   int
	primary  int
}

type fakeVersion struct {
	aead  cipher.AEAD
	state kmspb.CryptoKeyVersion_CryptoKeyVersionState
}

// startFakeKMS starts a fakeKMS on 127.0.0.1, stopped at the end of t.
func startFakeKMS(t testing.TB) *fakeKMS {
	t.Helper()
	f, err := newFakeKMS()
	require.NoError(t, err)
	t.Cleanup(f.stop)
	return f
}

// newFakeKMS starts a fakeKMS on 127.0.0.1; f.stop stops it.
func newFakeKMS() (*fakeKMS, error) {
	f := &fakeKMS{keys: map[string]*fakeKey{}, denied: map[string]bool{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.addr = lis.Addr().String()
	s := grpc.NewServer(grpc.UnaryInterceptor(f.authenticate))
	kmspb.RegisterKeyManagementServiceServer(s, f)
	f.stop = s.Stop
	go func() { _ = s.Serve(lis) }()
	return f, nil
}

// stopFake stops f's server: its address refuses connections.
func stopFake(t testing.TB, f *fakeKMS) {
	t.Helper()
	f.stop()
}

// clientOptions reach f with the test token over an insecure connection.
func (f *fakeKMS) clientOptions() []option.ClientOption {
	return clientOptionsFor(f.addr, testToken)
}

func clientOptionsFor(addr, token string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithGRPCDialOption(grpc.WithPerRPCCredentials(bearer(token))),
	}
}

// bearer sends a fixed access token, as Google's credentials do.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return false }

func (f *fakeKMS) authenticate(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	f.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer "+testToken {
		return nil, status.Error(codes.Unauthenticated, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
	}
	f.tokenChecks.Add(1)
	if f.failCount.Load() > 0 && f.failCount.Add(-1) >= 0 {
		return nil, status.Error(codes.Code(f.failCode.Load()), "injected failure")
	}
	return next(ctx, req)
}

// failNext makes the next n calls fail with code.
func (f *fakeKMS) failNext(n int, code codes.Code) {
	f.failCode.Store(int32(code))
	f.failCount.Store(int32(n))
}

// createKey creates the CryptoKey id in the test key ring with one enabled
// primary version, and returns its name.
func (f *fakeKMS) createKey(t testing.TB, id string) string {
	t.Helper()
	name, err := f.newKey(id)
	require.NoError(t, err)
	return name
}

func (f *fakeKMS) newKey(id string) (string, error) {
	name := testKeyRing + "/cryptoKeys/" + id
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.keys[name]; dup {
		return "", fmt.Errorf("key %s exists", name)
	}
	k := &fakeKey{versions: map[int]*fakeVersion{}}
	f.keys[name] = k
	f.addVersion(k)
	return name, nil
}

// rotate adds a version to key and makes it primary.
func (f *fakeKMS) rotate(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addVersion(f.keys[key])
}

func (f *fakeKMS) addVersion(k *fakeKey) int {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	block, _ := aes.NewCipher(raw)
	gcm, _ := cipher.NewGCM(block)
	k.latest++
	k.versions[k.latest] = &fakeVersion{aead: gcm, state: kmspb.CryptoKeyVersion_ENABLED}
	k.primary = k.latest
	return k.latest
}

// setState changes the state of one version of key.
func (f *fakeKMS) setState(key string, version int, s kmspb.CryptoKeyVersion_CryptoKeyVersionState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[key].versions[version].state = s
}

// deny removes the caller's IAM grant on key.
func (f *fakeKMS) deny(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.denied[key] = true
}

func crc(b []byte) int64 { return int64(crc32.Checksum(b, castagnoli)) }

func checksum(field string, data []byte, sum *wrapperspb.Int64Value) error {
	if sum != nil && sum.GetValue() != crc(data) {
		return status.Errorf(codes.InvalidArgument, "The checksum in field %s_crc32c did not match the data in field %s.", field, field)
	}
	return nil
}

// lookup finds the CryptoKey named, checking IAM first, as Cloud KMS does.
func (f *fakeKMS) lookup(name, permission string) (*fakeKey, error) {
	if f.denied[name] {
		return nil, status.Errorf(codes.PermissionDenied, "Permission '%s' denied on resource '%s' (or it may not exist).", permission, name)
	}
	k, ok := f.keys[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s not found.", name)
	}
	return k, nil
}

func notEnabled(name string, version int, v *fakeVersion) error {
	return status.Errorf(codes.FailedPrecondition, "%s/cryptoKeyVersions/%d is not enabled, current state is: %s.", name, version, v.state)
}

func (f *fakeKMS) Encrypt(_ context.Context, req *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	name, version := req.GetName(), 0
	if m := versionRE.FindStringSubmatch(name); m != nil {
		name, version = m[1], atoi(m[2])
	} else if !cryptoKeyRE.MatchString(name) {
		return nil, status.Errorf(codes.InvalidArgument, "Resource name [%s] does not match any known resource name pattern.", req.GetName())
	}
	switch {
	case len(req.GetPlaintext()) == 0:
		return nil, status.Error(codes.InvalidArgument, "Plaintext is required.")
	case len(req.GetPlaintext()) > 64*1024:
		return nil, status.Error(codes.InvalidArgument, "The plaintext must be no larger than 65536 bytes.")
	case len(req.GetAdditionalAuthenticatedData()) > 64*1024:
		return nil, status.Error(codes.InvalidArgument, "The additional authenticated data must be no larger than 65536 bytes.")
	}
	if err := checksum("plaintext", req.GetPlaintext(), req.GetPlaintextCrc32C()); err != nil {
		return nil, err
	}
	if err := checksum("additional_authenticated_data", req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C()); err != nil {
		return nil, err
	}

	f.mu.Lock()
	k, err := f.lookup(name, "cloudkms.cryptoKeyVersions.useToEncrypt")
	var v *fakeVersion
	if err == nil {
		if version == 0 {
			version = k.primary
		}
		if v = k.versions[version]; v == nil {
			err = status.Errorf(codes.NotFound, "%s/cryptoKeyVersions/%d not found.", name, version)
		} else if v.state != kmspb.CryptoKeyVersion_ENABLED {
			err = notEnabled(name, version, v)
		}
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}

	// Ciphertext: version (4 bytes, big endian) || nonce || AES-GCM.
	ct := binary.BigEndian.AppendUint32(nil, uint32(version))
	nonce := make([]byte, v.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct = append(ct, nonce...)
	ct = v.aead.Seal(ct, nonce, req.GetPlaintext(), req.GetAdditionalAuthenticatedData())

	resp := &kmspb.EncryptResponse{
		Name:                    fmt.Sprintf("%s/cryptoKeyVersions/%d", name, version),
		Ciphertext:              ct,
		CiphertextCrc32C:        wrapperspb.Int64(crc(ct)),
		VerifiedPlaintextCrc32C: req.GetPlaintextCrc32C() != nil,
		VerifiedAdditionalAuthenticatedDataCrc32C: req.GetAdditionalAuthenticatedDataCrc32C() != nil,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}
	if f.corrupt.Load() {
		resp.Ciphertext = flip(resp.Ciphertext)
	}
	if f.unverified.Load() {
		resp.VerifiedPlaintextCrc32C = false
	}
	return resp, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, req *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	name := req.GetName()
	if !cryptoKeyRE.MatchString(name) {
		return nil, status.Errorf(codes.InvalidArgument, "Resource name [%s] does not match any known resource name pattern.", name)
	}
	switch {
	case len(req.GetCiphertext()) == 0:
		return nil, status.Error(codes.InvalidArgument, "Ciphertext is required.")
	case len(req.GetCiphertext()) > 64*1024+1024:
		return nil, status.Error(codes.InvalidArgument, "The ciphertext is too large.")
	case len(req.GetAdditionalAuthenticatedData()) > 64*1024:
		return nil, status.Error(codes.InvalidArgument, "The additional authenticated data must be no larger than 65536 bytes.")
	}
	if err := checksum("ciphertext", req.GetCiphertext(), req.GetCiphertextCrc32C()); err != nil {
		return nil, err
	}
	if err := checksum("additional_authenticated_data", req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C()); err != nil {
		return nil, err
	}
	invalid := status.Error(codes.InvalidArgument, "Decryption failed: the ciphertext is invalid.")
	ct := req.GetCiphertext()
	if len(ct) < 4+12+16 {
		return nil, invalid
	}
	version := int(binary.BigEndian.Uint32(ct))

	f.mu.Lock()
	k, err := f.lookup(name, "cloudkms.cryptoKeyVersions.useToDecrypt")
	var v *fakeVersion
	primary := false
	if err == nil {
		if v = k.versions[version]; v == nil {
			err = invalid
		} else if v.state != kmspb.CryptoKeyVersion_ENABLED {
			err = notEnabled(name, version, v)
		}
		primary = version == k.primary
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	pt, err := v.aead.Open(nil, ct[4:16], ct[16:], req.GetAdditionalAuthenticatedData())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "Decryption failed: verify that 'name' refers to the correct CryptoKey.")
	}
	resp := &kmspb.DecryptResponse{
		Plaintext:       pt,
		PlaintextCrc32C: wrapperspb.Int64(crc(pt)),
		UsedPrimary:     primary,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}
	if f.corrupt.Load() {
		resp.Plaintext = flip(resp.Plaintext)
	}
	return resp, nil
}

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-1] ^= 1
	return c
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// newDriver returns a driver over key on f, closed at the end of t.
func newDriver(t testing.TB, f *fakeKMS, key string) *gcpkms.Driver {
	t.Helper()
	d, err := gcpkms.New(context.Background(), key, gcpkms.Options{ClientOptions: f.clientOptions()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// newClient returns a Cloud KMS client for f, closed at the end of t.
func newClient(t testing.TB, f *fakeKMS) *kmsapi.KeyManagementClient {
	t.Helper()
	c, err := kmsapi.NewKeyManagementClient(context.Background(), f.clientOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
