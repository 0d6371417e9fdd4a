package gcpkms

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// fail turns an error of the Cloud KMS client into one that wraps a kms
// sentinel (or the context's error) and names the key, the RPC, the gRPC
// code and the service's message. The client's error itself is not
// wrapped.
func (d *Driver) fail(ctx context.Context, op, rpc string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return d.errorf(op, "%s: %w", rpc, cerr)
	}
	if d.closed.Load() {
		// Close interrupted the call.
		return d.errorf(op, "%s: %w", rpc, kms.ErrClosed)
	}
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return d.errorf(op, "%s: timed out: %w", rpc, kms.ErrUnavailable)
		}
		return d.errorf(op, "%s: %s: %w", rpc, errtext.Safe(err.Error()), kms.ErrBackend)
	}
	detail := st.Code().String()
	if msg := st.Message(); msg != "" {
		detail += ": " + errtext.Safe(msg)
	}
	return d.errorf(op, "%s: %s: %w", rpc, detail, classify(rpc, st))
}

// classify maps a gRPC status of Encrypt or Decrypt to a kms sentinel.
func classify(rpc string, st *status.Status) error {
	switch st.Code() {
	case codes.NotFound:
		return kms.ErrNotFound
	case codes.PermissionDenied, codes.Unauthenticated:
		return kms.ErrPermissionDenied
	case codes.FailedPrecondition:
		// The key version is not enabled: disabled (reversible) or
		// destroyed or scheduled for destruction.
		if strings.Contains(st.Message(), "DESTROYED") {
			return kms.ErrDestroyed
		}
		return kms.ErrDisabled
	case codes.InvalidArgument:
		// Cloud KMS answers a ciphertext that does not decrypt under the
		// key with these associated data INVALID_ARGUMENT.
		if rpc == "Decrypt" {
			return kms.ErrInvalidCiphertext
		}
		return kms.ErrInvalidArgument
	case codes.Unavailable, codes.ResourceExhausted, codes.Internal, codes.Aborted, codes.DeadlineExceeded, codes.Canceled:
		return kms.ErrUnavailable
	}
	return kms.ErrBackend
}
