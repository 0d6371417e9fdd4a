package piiguard_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard"
)

func TestErrorCodeClassifiesWrappedSentinels(t *testing.T) {
	assert.Equal(t, piiguard.CodeOK, piiguard.ErrorCode(nil))
	assert.Equal(t, piiguard.CodeNotFound, piiguard.ErrorCode(fmt.Errorf("kms: keyset %q: %w", "x", piiguard.ErrNotFound)))
	assert.Equal(t, piiguard.CodeCanceled, piiguard.ErrorCode(fmt.Errorf("x: %w", context.Canceled)))
	assert.Equal(t, piiguard.CodeDeadlineExceeded, piiguard.ErrorCode(fmt.Errorf("x: %w", context.DeadlineExceeded)))
	assert.Equal(t, piiguard.CodeInternal, piiguard.ErrorCode(errors.New("foreign")))
	assert.False(t, piiguard.Classified(errors.New("foreign")))
	assert.True(t, piiguard.Classified(fmt.Errorf("%w", piiguard.ErrClosed)))
	// Several classes: the earlier in the list wins, whatever the order of
	// wrapping.
	both := fmt.Errorf("%w: %w", piiguard.ErrInternal, piiguard.ErrInvalidCiphertext)
	assert.Equal(t, piiguard.CodeInvalidCiphertext, piiguard.ErrorCode(both))
}

func TestEveryCodeHasOneClassSentinel(t *testing.T) {
	sentinels := []error{
		piiguard.ErrNotFound, piiguard.ErrAlreadyExists, piiguard.ErrPermissionDenied, piiguard.ErrDenied,
		piiguard.ErrUnavailable, piiguard.ErrInvalidCiphertext, piiguard.ErrDisabled, piiguard.ErrDestroyed,
		piiguard.ErrClosed, piiguard.ErrConflict, piiguard.ErrWrongPassphrase, piiguard.ErrWeakPassphrase,
		piiguard.ErrCorrupt, piiguard.ErrTampered, piiguard.ErrUnsupportedVersion, piiguard.ErrUnknownScheme,
		piiguard.ErrNotEmpty, piiguard.ErrKeysMissing, piiguard.ErrWrongRootKey, piiguard.ErrResourceExhausted,
		piiguard.ErrInvalidArgument, piiguard.ErrVerification, piiguard.ErrInternal,
	}
	seen := map[piiguard.Code]bool{}
	for _, s := range sentinels {
		c := piiguard.ErrorCode(s)
		assert.False(t, seen[c], "code %s twice", c)
		seen[c] = true
		if s != piiguard.ErrInternal {
			assert.NotEqual(t, piiguard.CodeInternal, c, "%v", s)
		}
		assert.Equal(t, c, piiguard.ErrorCode(fmt.Errorf("wrapped: %w", s)))
	}
}

// A caller branches on the class of an error, whichever package returned it.
func ExampleErrorCode() {
	err := fmt.Errorf("kms: rotate keyset %q: %w", "pii-fields", piiguard.ErrUnavailable)
	switch piiguard.ErrorCode(err) {
	case piiguard.CodeUnavailable:
		fmt.Println("retry later")
	default:
		fmt.Println("give up")
	}
	// Output: retry later
}
