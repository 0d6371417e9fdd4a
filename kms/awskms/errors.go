package awskms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// errorClasses maps AWS KMS error codes to kms sentinels. Codes not listed
// are classified by HTTP status: 5xx and 429 are ErrUnavailable, others
// ErrBackend.
var errorClasses = map[string]error{
	"AccessDeniedException":       kms.ErrPermissionDenied,
	"UnrecognizedClientException": kms.ErrPermissionDenied, // unknown access key
	"InvalidSignatureException":   kms.ErrPermissionDenied, // wrong secret key
	"IncompleteSignature":         kms.ErrPermissionDenied,
	"ExpiredTokenException":       kms.ErrPermissionDenied,
	"InvalidGrantTokenException":  kms.ErrPermissionDenied,
	"MissingAuthenticationToken":  kms.ErrPermissionDenied,
	"DisabledException":           kms.ErrDisabled,
	// KMSInvalidStateException: the key is pending deletion, pending
	// import, or otherwise not usable now; all can be undone.
	"KMSInvalidStateException":      kms.ErrDisabled,
	"NotFoundException":             kms.ErrNotFound,
	"InvalidCiphertextException":    kms.ErrInvalidCiphertext,
	"IncorrectKeyException":         kms.ErrInvalidCiphertext, // made under another key
	"ThrottlingException":           kms.ErrUnavailable,
	"LimitExceededException":        kms.ErrUnavailable,
	"RequestLimitExceeded":          kms.ErrUnavailable,
	"KMSInternalException":          kms.ErrUnavailable,
	"DependencyTimeoutException":    kms.ErrUnavailable,
	"KeyUnavailableException":       kms.ErrUnavailable, // custom key store unreachable
	"ServiceUnavailableException":   kms.ErrUnavailable,
	"InternalFailure":               kms.ErrUnavailable,
	"InvalidKeyUsageException":      kms.ErrInvalidArgument,
	"ValidationException":           kms.ErrInvalidArgument,
	"InvalidArnException":           kms.ErrInvalidArgument,
	"UnsupportedOperationException": kms.ErrInvalidArgument,
}

// quotedMessages are the codes whose service message is kept in the error
// text: they explain which principal, key or state is at fault and hold no
// data. Other messages are dropped, as some echo request members.
var quotedMessages = map[string]bool{
	"AccessDeniedException":    true,
	"DisabledException":        true,
	"KMSInvalidStateException": true,
	"NotFoundException":        true,
	"IncorrectKeyException":    true,
	"KeyUnavailableException":  true,
}

// fail turns an error of the AWS SDK into one that wraps a kms sentinel (or
// the context's error) and names the key, the API operation, the AWS error
// code, the HTTP status and the request ID. The SDK's own error is not
// wrapped: its text may quote request members.
func (d *Driver) fail(ctx context.Context, op, apiOp string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return d.errorf(op, "%s: %w", apiOp, cerr)
	}
	class, detail := classify(err)
	return d.errorf(op, "%s: %s: %w", apiOp, detail, class)
}

// classify returns the sentinel for an SDK error and a description of it
// that holds no request data.
func classify(err error) (class error, detail string) {
	status, requestID := 0, ""
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status, requestID = re.HTTPStatusCode(), re.ServiceRequestID()
	} else {
		var sre *smithyhttp.ResponseError
		if errors.As(err, &sre) {
			status = sre.HTTPStatusCode()
		}
	}
	where := ""
	if status != 0 {
		where = fmt.Sprintf(" (HTTP %d", status)
		if requestID != "" {
			where += ", request ID " + requestID
		}
		where += ")"
	}

	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		detail = errtext.Safe(code) + where
		if quotedMessages[code] && ae.ErrorMessage() != "" {
			detail += ": " + errtext.Safe(ae.ErrorMessage())
		}
		if c, ok := errorClasses[code]; ok {
			return c, detail
		}
		return byStatus(status), detail
	}
	if status != 0 {
		// A response that arrived but could not be read to the end (the
		// connection dropped mid-body) is a transient fault, whatever its
		// status line said.
		var ne net.Error
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
			return kms.ErrUnavailable, "response cut short" + where
		}
		return byStatus(status), "HTTP error" + where
	}

	var se *smithyhttp.RequestSendError
	var ne net.Error
	switch {
	case errors.As(err, &se), errors.As(err, &ne):
		return kms.ErrUnavailable, "cannot reach AWS KMS: " + errtext.Safe(errtext.RootCause(err).Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kms.ErrUnavailable, "request timed out"
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && strings.Contains(err.Error(), "credential") {
		// The SDK could not find or refresh credentials.
		return kms.ErrPermissionDenied, "no usable AWS credentials"
	}
	return kms.ErrBackend, "unexpected error from the AWS SDK"
}

func byStatus(status int) error {
	switch {
	case status == 429 || status >= 500:
		return kms.ErrUnavailable
	case status == 401 || status == 403:
		return kms.ErrPermissionDenied
	}
	return kms.ErrBackend
}
