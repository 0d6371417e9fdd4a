//go:build integration

package e2e_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

// startLocalKMS serves github.com/nsmithuk/local-kms, an AWS-KMS-compatible
// server, from this process on 127.0.0.1, over a database in a temporary
// directory, and returns its URL. (kms/awskms's own tests do the same;
// their helpers are not importable.)
func startLocalKMS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// local-kms keeps its settings in package variables.
	config.AWSRegion = "eu-west-2"
	config.AWSAccountId = "111122223333"
	config.DatabasePath = dir
	db := data.NewDatabase(dir)
	t.Cleanup(func() { db.Close() })
	logger := logrus.New()
	logger.Out = io.Discard
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		target := strings.Split(r.Header.Get("X-Amz-Target"), ".")
		if len(target) != 2 {
			http.Error(w, "not an AWS KMS request", http.StatusBadRequest)
			return
		}
		method := reflect.ValueOf(handler.NewRequestHandler(r, logger, db)).MethodByName(target[1])
		if !method.IsValid() {
			http.Error(w, "not implemented", http.StatusNotImplemented)
			return
		}
		resp := method.Call(nil)[0].Interface().(handler.Response)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(resp.Code)
		_, _ = io.WriteString(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSoftHSMMigrationChainLocalToAWSToHSM migrates a deployment twice —
// local key file → AWS KMS → PKCS#11 HSM — with one Rewrap each, and
// proves after each move that every version opens and that data encrypted
// before the first move still decrypts.
func TestSoftHSMMigrationChainLocalToAWSToHSM(t *testing.T) {
	requireHSM(t)
	ctx := t.Context()
	endpoint := startLocalKMS(t)
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
	store, err := kms.NewFileStore(filepath.Join(dir, "store"))
	require.NoError(t, err)
	kr, err := kms.NewKeyring(local, store, kms.KeyringOptions{})
	require.NoError(t, err)
	c := makeCorpus(t, ctx, kr)

	hsmRoot, err := newMux().OpenRootKey(ctx, hsmURI("chain-root", true))
	require.NoError(t, err)
	defer hsmRoot.Close()

	for _, to := range []*kms.RootKey{awsRoot, hsmRoot} {
		n, err := kr.Rewrap(ctx, to)
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
