package localkms_test

// The tests of kms/awskms run against github.com/nsmithuk/local-kms, an
// AWS-KMS-compatible server written in Go, in this process (package
// localkms serves it through httptest over a LevelDB database in a
// temporary directory). Keys are created through the AWS KMS API with the
// real AWS SDK for Go v2. No external process, network or AWS account is
// needed.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms/awskms"
	"github.com/piiguard/piiguard/kms/awskms/localkms"
)

const (
	testRegion  = localkms.Region
	testAccount = localkms.Account
	// Test credentials: local-kms does not check them, the suite checks
	// that they never show in an error or a formatting of the driver.
	testAccessKeyID     = "AKIAPIIGUARDTEST0001"
	testSecretAccessKey = "piiguard-test-SECRET-access-key-0123456789"
)

// lk is the in-process local-kms server shared by the package's tests.
var lk struct {
	*localkms.Server
	srv *httptest.Server
}

func TestMain(m *testing.M) {
	os.Exit(runWithLocalKMS(m))
}

func runWithLocalKMS(m *testing.M) int {
	dir, err := os.MkdirTemp("", "piiguard-local-kms-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "awskms tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lk.Server = localkms.New(dir)
	defer lk.Close()
	lk.srv = httptest.NewServer(lk.Server)
	defer lk.srv.Close()
	code := m.Run()
	if n := lk.Panics(); n > 0 && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "local-kms: %d handler panics recovered (ciphertext blobs shorter than a nonce)\n", n)
	}
	return code
}

// testOptions are driver options that reach the server at endpoint with
// the test credentials.
func testOptions(endpoint string) awskms.Options {
	return awskms.Options{
		Region:      testRegion,
		Endpoint:    endpoint,
		Credentials: awskms.StaticCredentials(testAccessKeyID, testSecretAccessKey, ""),
	}
}

// adminClient is an AWS KMS client for the test server, to create and
// change keys.
func adminClient(testing.TB) *awskmsapi.Client { return newAdminClient() }

func newAdminClient() *awskmsapi.Client {
	return awskmsapi.New(awskmsapi.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(lk.srv.URL),
		Credentials:  awskms.StaticCredentials(testAccessKeyID, testSecretAccessKey, ""),
	})
}

// createKey creates a symmetric key on the test server and returns its ARN.
// It panics on failure when t is nil (in examples).
func createKey(t testing.TB, description string) string {
	out, err := newAdminClient().CreateKey(context.Background(), &awskmsapi.CreateKeyInput{
		Description: aws.String(description),
		KeySpec:     types.KeySpecSymmetricDefault,
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
	})
	if t == nil {
		if err != nil {
			panic(err)
		}
	} else {
		t.Helper()
		require.NoError(t, err, "CreateKey")
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// newDriver returns a driver over keyID on the test server, closed at the
// end of t.
func newDriver(t testing.TB, keyID string) *awskms.Driver {
	t.Helper()
	d, err := awskms.New(context.Background(), keyID, testOptions(lk.srv.URL))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}
