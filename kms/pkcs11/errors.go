package pkcs11

import (
	"errors"
	"fmt"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/piiguard/piiguard/kms"
)

// ckrAEADDecryptFailed is CKR_AEAD_DECRYPT_FAILED of PKCS#11 3.0, which
// the binding does not name.
const ckrAEADDecryptFailed = 0x35

// stage says which PKCS#11 call failed, for the one return value whose
// meaning depends on it (CKR_GENERAL_ERROR).
type stage int

const (
	stageOther   stage = iota
	stageDecrypt       // C_Decrypt: the token authenticated the ciphertext
)

// classOf returns the kms sentinel error for a PKCS#11 return value:
//
//   - PIN and authorisation failures: kms.ErrPermissionDenied.
//   - A ciphertext the token refuses (CKR_ENCRYPTED_DATA_INVALID,
//     CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_AEAD_DECRYPT_FAILED, and, from
//     C_Decrypt only, CKR_GENERAL_ERROR, which is how SoftHSM2 reports a
//     failed GCM tag): kms.ErrInvalidCiphertext.
//   - The device, the token, the session or the library gone or in a bad
//     state (device errors, removed token, closed or invalid session,
//     logged-out session, invalid object handle, library not initialised,
//     out of memory): kms.ErrUnavailable, retried by kms.RootKey.
//   - A mechanism or key the token does not support for AES-GCM:
//     kms.ErrBackend.
//   - Everything else: kms.ErrBackend.
func classOf(st stage, rv uint) error {
	switch rv {
	case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE,
		p11.CKR_PIN_EXPIRED, p11.CKR_PIN_LOCKED, p11.CKR_USER_PIN_NOT_INITIALIZED,
		p11.CKR_KEY_FUNCTION_NOT_PERMITTED, p11.CKR_TOKEN_WRITE_PROTECTED,
		p11.CKR_USER_TYPE_INVALID, p11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
		p11.CKR_USER_TOO_MANY_TYPES:
		return kms.ErrPermissionDenied

	case p11.CKR_ENCRYPTED_DATA_INVALID, p11.CKR_ENCRYPTED_DATA_LEN_RANGE, ckrAEADDecryptFailed:
		return kms.ErrInvalidCiphertext

	case p11.CKR_GENERAL_ERROR:
		if st == stageDecrypt {
			return kms.ErrInvalidCiphertext
		}
		return kms.ErrUnavailable

	case p11.CKR_DEVICE_ERROR, p11.CKR_DEVICE_MEMORY, p11.CKR_DEVICE_REMOVED,
		p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_TOKEN_NOT_RECOGNIZED,
		p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_SESSION_COUNT,
		p11.CKR_USER_NOT_LOGGED_IN, p11.CKR_OBJECT_HANDLE_INVALID, p11.CKR_KEY_HANDLE_INVALID,
		p11.CKR_CRYPTOKI_NOT_INITIALIZED, p11.CKR_SLOT_ID_INVALID, p11.CKR_HOST_MEMORY,
		p11.CKR_FUNCTION_FAILED, p11.CKR_CANT_LOCK, p11.CKR_OPERATION_ACTIVE,
		p11.CKR_FUNCTION_CANCELED, p11.CKR_SESSION_EXISTS:
		return kms.ErrUnavailable
	}
	return kms.ErrBackend
}

// ckrName returns the name of a PKCS#11 return value, as "CKR_X (0xN)".
func ckrName(rv uint) string {
	name := strings.TrimPrefix(p11.Error(rv).Error(), fmt.Sprintf("pkcs11: 0x%X: ", rv))
	if name == "" {
		name = "CKR_?"
		if rv == ckrAEADDecryptFailed {
			name = "CKR_AEAD_DECRYPT_FAILED"
		}
	}
	return fmt.Sprintf("%s (0x%X)", name, rv)
}

// returnValue extracts the PKCS#11 return value from an error of the
// binding.
func returnValue(err error) (uint, bool) {
	var e p11.Error
	if errors.As(err, &e) {
		return uint(e), true
	}
	return 0, false
}

// mapErr turns an error of a PKCS#11 call into an error wrapping exactly
// one kms sentinel, naming the call and the return value. Errors that
// already wrap a sentinel (or a context error) are returned as they are.
func mapErr(st stage, call string, err error) error {
	if err == nil {
		return nil
	}
	rv, ok := returnValue(err)
	if !ok {
		return err
	}
	return fmt.Errorf("%s: %s: %w", call, ckrName(rv), classOf(st, rv))
}

// sessionUnusable reports whether a session that saw err must be thrown
// away rather than returned to the pool: anything but a clean refusal of
// the input may leave an operation active or the session dead.
func sessionUnusable(err error) bool {
	return err != nil && !errors.Is(err, kms.ErrInvalidCiphertext) && !errors.Is(err, kms.ErrInvalidArgument)
}
