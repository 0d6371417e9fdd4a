//go:build integration

package e2e_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
	"github.com/piiguard/piiguard/kms/filestore"
)

// awsEndpoint returns the URL of the AWS-KMS-compatible server that
// scripts/integration.sh starts on 127.0.0.1 (kms/awskms/localkms's
// command, serving github.com/nsmithuk/local-kms).
func awsEndpoint(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PIIGUARD_TEST_AWSKMS_ENDPOINT")
	if u == "" {
		t.Fatal("PIIGUARD_TEST_AWSKMS_ENDPOINT is not set: run the integration tests with scripts/integration.sh (make integration)")
	}
	return u
}

// TestSoftHSMMigrationChainLocalToAWSToHSM migrates a deployment twice —
// local key file → AWS KMS → PKCS#11 HSM — with one Rewrap each, and
// proves after each move that every version opens and that data encrypted
// before the first move still decrypts.
func TestSoftHSMMigrationChainLocalToAWSToHSM(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	endpoint := awsEndpoint(t)
	creds := awskms.StaticCredentials("AKIAPIIGUARDE2E00001", "piiguard-e2e-test-secret-key", "")
	admin := awskmsapi.New(awskmsapi.Options{Region: "eu-west-2", BaseEndpoint: aws.String(endpoint), Credentials: creds})
	key, err := admin.CreateKey(ctx, &awskmsapi.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	require.NoError(t, err)
	awsDriver, err := awskms.New(ctx, *key.KeyMetadata.Arn, awskms.Options{Region: "eu-west-2", Endpoint: endpoint, Credentials: creds})
	require.NoError(t, err)
	awsRoot := kms.NewRootKey(awsDriver, fastRetries("awskms:e2e"))
	defer awsRoot.Close()

	dir := t.TempDir()
	localDriver, keyFile := localRoot(t, dir, "root")
	local := kms.NewRootKey(localDriver, fastRetries("local:e2e"))
	store, err := filestore.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	kr, err := kms.NewKeyring(local, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)

	hsmRoot, err := newMux().OpenRootKey(ctx, hsmURI("chain-root", true))
	require.NoError(t, err)
	defer hsmRoot.Close()

	for _, to := range []*kms.RootKey{awsRoot, hsmRoot} {
		n, err := kms.NewAdmin(kr).Rewrap(ctx, to)
		require.NoError(t, err, "rewrap to %s", to.Name())
		assert.Equal(t, c.keysets, n)
		allNamed(t, ctx, store, to.Name())
		c.checkVerify(t, ctx, kr)
		c.check(t, ctx, kr)
		if to == awsRoot {
			require.NoError(t, local.Close())
			require.NoError(t, os.Remove(keyFile), "the local root is retired once on AWS")
		}
	}

	// Off AWS too: a new process with the HSM alone opens everything.
	require.NoError(t, awsRoot.Close())
	kr2, err := kms.NewKeyring(hsmRoot, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c.checkVerify(t, ctx, kr2)
	c.check(t, ctx, kr2)
}
