package awskms_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
)

// TestErrorMapping answers each call with an AWS KMS error response, in the
// service's JSON protocol, and checks the class the driver gives it through
// the real SDK's error parsing.
func TestErrorMapping(t *testing.T) {
	const secretish = "S3CRET-PLAINTEXT-echoed-by-the-service"
	cases := []struct {
		status int
		code   string
		msg    string
		want   error
		quoted bool // the service message is kept in the error text
	}{
		{400, "AccessDeniedException", "User: arn:aws:iam::111122223333:user/app is not authorized to perform: kms:Encrypt", kms.ErrPermissionDenied, true},
		{400, "UnrecognizedClientException", "The security token included in the request is invalid.", kms.ErrPermissionDenied, false},
		{400, "InvalidSignatureException", "The request signature we calculated does not match", kms.ErrPermissionDenied, false},
		{400, "ExpiredTokenException", "The security token included in the request is expired", kms.ErrPermissionDenied, false},
		{400, "DisabledException", "arn:aws:kms:eu-west-2:111122223333:key/k is disabled.", kms.ErrDisabled, true},
		{400, "KMSInvalidStateException", "arn:aws:kms:eu-west-2:111122223333:key/k is pending deletion.", kms.ErrDisabled, true},
		{400, "NotFoundException", "Key 'arn:aws:kms:eu-west-2:111122223333:key/k' does not exist", kms.ErrNotFound, true},
		{400, "InvalidCiphertextException", "", kms.ErrInvalidCiphertext, false},
		{400, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.", kms.ErrInvalidCiphertext, true},
		{400, "ThrottlingException", "Rate exceeded", kms.ErrUnavailable, false},
		{400, "LimitExceededException", "", kms.ErrUnavailable, false},
		{500, "KMSInternalException", "", kms.ErrUnavailable, false},
		{500, "DependencyTimeoutException", "", kms.ErrUnavailable, false},
		{400, "KeyUnavailableException", "The custom key store is disconnected", kms.ErrUnavailable, true},
		{503, "", "", kms.ErrUnavailable, false},
		{502, "", "", kms.ErrUnavailable, false},
		{400, "ValidationException", "1 validation error detected: Value '" + secretish + "' at 'Plaintext'", kms.ErrInvalidArgument, false},
		{400, "InvalidKeyUsageException", "key usage is SIGN_VERIFY", kms.ErrInvalidArgument, false},
		{400, "SomeNewException", secretish, kms.ErrBackend, false},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%d %s", tc.status, tc.code)
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.Header().Set("X-Amzn-RequestId", "req-1234")
				w.WriteHeader(tc.status)
				if tc.code != "" {
					fmt.Fprintf(w, `{"__type":%q,"message":%q}`, tc.code, tc.msg)
				}
			}))
			defer srv.Close()
			d, err := awskms.New(t.Context(), "alias/piiguard-errors", testOptions(srv.URL))
			require.NoError(t, err)
			defer d.Close()

			for op, call := range map[string]func() error{
				"Wrap":   func() error { _, err := d.Wrap(t.Context(), []byte(secretish), nil); return err },
				"Unwrap": func() error { _, err := d.Unwrap(t.Context(), []byte("\x01"+secretish), nil); return err },
			} {
				err := call()
				require.Error(t, err, op)
				assert.ErrorIs(t, err, tc.want, op)
				assert.Equal(t, piiguard.ErrorCode(tc.want), piiguard.ErrorCode(err), op)
				assert.NotContains(t, err.Error(), secretish, op)
				assert.NotContains(t, err.Error(), testSecretAccessKey, op)
				assert.Contains(t, err.Error(), "alias/piiguard-errors", op)
				assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tc.status), op)
				if tc.code != "" {
					assert.Contains(t, err.Error(), tc.code, op)
				}
				if tc.quoted {
					assert.Contains(t, err.Error(), tc.msg, op)
				} else if tc.msg != "" {
					assert.NotContains(t, err.Error(), tc.msg, op)
				}
			}
		})
	}
}

// A 200 response whose body is cut short (the connection drops mid-body) is
// a transient fault: ErrUnavailable, which kms.RootKey retries.
func TestResponseCutShortIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		fmt.Fprint(w, `{"CiphertextBlob":"AQID`)
	}))
	defer srv.Close()
	d, err := awskms.New(t.Context(), "alias/piiguard-cut", testOptions(srv.URL))
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Wrap(t.Context(), []byte("data key"), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, kms.ErrUnavailable, "%v", err)
}
