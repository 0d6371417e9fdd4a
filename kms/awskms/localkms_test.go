package awskms_test

// The tests run against github.com/nsmithuk/local-kms, an AWS-KMS-compatible
// server written in Go, in this process: its request handlers serve an
// httptest server over a LevelDB database in a temporary directory. Keys are
// created through the AWS KMS API with the real AWS SDK for Go v2. No
// external process, network or AWS account is needed. Two gaps between
// local-kms and AWS KMS are closed in serve and incorrectKey below.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/nsmithuk/local-kms/src/service"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms/awskms"
)

const (
	testRegion  = "eu-west-2"
	testAccount = "111122223333"
	// Test credentials: local-kms does not check them, the suite checks
	// that they never show in an error or a formatting of the driver.
	testAccessKeyID     = "AKIAPIIGUARDTEST0001"
	testSecretAccessKey = "piiguard-test-SECRET-access-key-0123456789"
)

// localKMS is the in-process local-kms server shared by the package's tests.
type localKMS struct {
	db      *data.Database
	handler http.Handler
	srv     *httptest.Server
	// panics counts handler panics. local-kms slices a ciphertext blob
	// shorter than a GCM nonce without checking its length and panics;
	// AWS KMS answers InvalidCiphertextException, and so does the recovery
	// in serve.
	panics atomic.Int64
}

var lk *localKMS

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
	// local-kms keeps its settings in package variables, set once here.
	config.AWSRegion = testRegion
	config.AWSAccountId = testAccount
	config.DatabasePath = dir

	lk = &localKMS{db: data.NewDatabase(dir)}
	defer lk.db.Close()
	logger := logrus.New()
	logger.Out = io.Discard
	lk.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { lk.serve(w, r, logger) })
	lk.srv = httptest.NewServer(lk.handler)
	defer lk.srv.Close()
	code := m.Run()
	if n := lk.panics.Load(); n > 0 && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "local-kms: %d handler panics recovered (ciphertext blobs shorter than a nonce)\n", n)
	}
	return code
}

// serve dispatches one request as local-kms's own server does (src.HandleRequest:
// the X-Amz-Target header names a RequestHandler method), with a quiet logger.
func (l *localKMS) serve(w http.ResponseWriter, r *http.Request, logger *logrus.Logger) {
	target := strings.Split(r.Header.Get("X-Amz-Target"), ".")
	defer func() {
		if p := recover(); p != nil {
			l.panics.Add(1)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			if len(target) == 2 && target[1] == "Decrypt" {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"__type":"InvalidCiphertextException"}`)
				return
			}
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"__type":"KMSInternalException"}`)
		}
	}()
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Content-Type"), "json") || len(target) != 2 {
		http.Error(w, "not an AWS KMS request", http.StatusBadRequest)
		return
	}
	if target[1] == "Decrypt" {
		if incorrect := l.incorrectKey(r); incorrect {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"IncorrectKeyException","message":"The key ID in the request does not identify a CMK that can perform this operation."}`)
			return
		}
	}
	h := handler.NewRequestHandler(r, logger, l.db)
	method := reflect.ValueOf(h).MethodByName(target[1])
	if !method.IsValid() {
		http.Error(w, "not implemented", http.StatusNotImplemented)
		return
	}
	resp := method.Call(nil)[0].Interface().(handler.Response)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(resp.Code)
	_, _ = io.WriteString(w, resp.Body)
}

// incorrectKey adds a check AWS KMS makes and local-kms does not: a Decrypt
// request that names a key (KeyId) must name the key the ciphertext blob was
// made under, or AWS KMS answers IncorrectKeyException. local-kms decrypts
// with the named key's material and ignores the key ARN inside the blob, so
// without this check a blob whose embedded ARN was changed would still open.
// r.Body is left readable for the handler.
func (l *localKMS) incorrectKey(r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var in struct {
		KeyId          *string
		CiphertextBlob []byte
	}
	if json.Unmarshal(body, &in) != nil || in.KeyId == nil {
		return false
	}
	ident, _, _, ok := service.UnpackCiphertextBlob(in.CiphertextBlob)
	if !ok {
		return false // local-kms answers InvalidCiphertextException itself
	}
	keyID := *in.KeyId
	if strings.Contains(keyID, "alias/") {
		alias, err := l.db.LoadAlias(config.EnsureArn("", keyID))
		if err != nil {
			return false // local-kms answers for the unknown alias itself
		}
		keyID = alias.TargetKeyId
	}
	keyARN := config.EnsureArn("key/", keyID)
	if _, err := l.db.LoadKey(keyARN); err != nil {
		return false // local-kms answers for the unknown key itself
	}
	return ident != keyARN
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
