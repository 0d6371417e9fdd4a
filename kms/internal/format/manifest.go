package format

import (
	"errors"
	"fmt"
)

// ValidateManifest checks the structure of a store's manifest
// (kms.Manifest): a root key and its check, and valid keyset names, sorted,
// without duplicates. The caller says what a failure is (kms.ErrCorrupt
// for one read, kms.ErrInvalidArgument for one to write).
func ValidateManifest(rootKey string, rootCheck []byte, keysets []string) error {
	if rootKey == "" || len(rootCheck) == 0 {
		return errors.New("manifest: root key or its check missing")
	}
	for i, n := range keysets {
		if err := ValidName(n); err != nil {
			return fmt.Errorf("manifest: keyset %d: %w", i+1, err)
		}
		if i > 0 && keysets[i-1] >= n {
			return fmt.Errorf("manifest: keysets not sorted or repeated at %d", i+1)
		}
	}
	return nil
}
