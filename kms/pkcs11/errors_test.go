package pkcs11

import (
	"errors"
	"fmt"
	"testing"

	p11 "github.com/miekg/pkcs11"
	"github.com/stretchr/testify/assert"

	"github.com/piiguard/piiguard/kms"
)

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		st   stage
		rv   uint
		want error
	}{
		{stageOther, p11.CKR_PIN_INCORRECT, kms.ErrPermissionDenied},
		{stageOther, p11.CKR_PIN_LOCKED, kms.ErrPermissionDenied},
		{stageOther, p11.CKR_PIN_EXPIRED, kms.ErrPermissionDenied},
		{stageOther, p11.CKR_KEY_FUNCTION_NOT_PERMITTED, kms.ErrPermissionDenied},
		{stageDecrypt, p11.CKR_ENCRYPTED_DATA_INVALID, kms.ErrInvalidCiphertext},
		{stageDecrypt, p11.CKR_ENCRYPTED_DATA_LEN_RANGE, kms.ErrInvalidCiphertext},
		{stageDecrypt, ckrAEADDecryptFailed, kms.ErrInvalidCiphertext},
		// SoftHSM2 reports a failed GCM tag as CKR_GENERAL_ERROR.
		{stageDecrypt, p11.CKR_GENERAL_ERROR, kms.ErrInvalidCiphertext},
		{stageOther, p11.CKR_GENERAL_ERROR, kms.ErrUnavailable},
		{stageOther, p11.CKR_DEVICE_ERROR, kms.ErrUnavailable},
		{stageOther, p11.CKR_DEVICE_REMOVED, kms.ErrUnavailable},
		{stageOther, p11.CKR_TOKEN_NOT_PRESENT, kms.ErrUnavailable},
		{stageOther, p11.CKR_SESSION_HANDLE_INVALID, kms.ErrUnavailable},
		{stageOther, p11.CKR_SESSION_CLOSED, kms.ErrUnavailable},
		{stageOther, p11.CKR_USER_NOT_LOGGED_IN, kms.ErrUnavailable},
		{stageOther, p11.CKR_OBJECT_HANDLE_INVALID, kms.ErrUnavailable},
		{stageOther, p11.CKR_KEY_HANDLE_INVALID, kms.ErrUnavailable},
		{stageOther, p11.CKR_CRYPTOKI_NOT_INITIALIZED, kms.ErrUnavailable},
		{stageDecrypt, p11.CKR_DEVICE_ERROR, kms.ErrUnavailable},
		{stageOther, p11.CKR_MECHANISM_INVALID, kms.ErrBackend},
		{stageOther, p11.CKR_MECHANISM_PARAM_INVALID, kms.ErrBackend},
		{stageOther, p11.CKR_ARGUMENTS_BAD, kms.ErrBackend},
		{stageOther, 0x8000_0001, kms.ErrBackend},
	} {
		err := mapErr(tc.st, "C_Call", p11.Error(tc.rv))
		assert.ErrorIs(t, err, tc.want, "%s", ckrName(tc.rv))
		n := 0
		for _, s := range []error{kms.ErrPermissionDenied, kms.ErrInvalidCiphertext, kms.ErrUnavailable, kms.ErrBackend} {
			if errors.Is(err, s) {
				n++
			}
		}
		assert.Equal(t, 1, n, "%v wraps exactly one sentinel", err)
	}
}

func TestErrorTextNamesTheCallAndTheReturnValue(t *testing.T) {
	err := mapErr(stageDecrypt, "C_Decrypt", p11.Error(p11.CKR_GENERAL_ERROR))
	assert.EqualError(t, err, "C_Decrypt: CKR_GENERAL_ERROR (0x5): invalid ciphertext")
	assert.Equal(t, "CKR_AEAD_DECRYPT_FAILED (0x35)", ckrName(ckrAEADDecryptFailed))
	assert.Equal(t, "CKR_? (0x80000001)", ckrName(0x8000_0001))

	// An error that is not the binding's passes through.
	plain := fmt.Errorf("x: %w", kms.ErrClosed)
	assert.Same(t, plain, mapErr(stageOther, "C_X", plain))
	assert.NoError(t, mapErr(stageOther, "C_X", nil))
}

func TestSessionIsKeptOnlyAfterACleanRefusal(t *testing.T) {
	assert.False(t, sessionUnusable(nil))
	assert.False(t, sessionUnusable(mapErr(stageDecrypt, "C_Decrypt", p11.Error(p11.CKR_GENERAL_ERROR))))
	assert.True(t, sessionUnusable(mapErr(stageOther, "C_EncryptInit", p11.Error(p11.CKR_SESSION_HANDLE_INVALID))))
	assert.True(t, sessionUnusable(mapErr(stageOther, "C_EncryptInit", p11.Error(p11.CKR_MECHANISM_INVALID))))
}
