package awskms_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModuleDoesNotRequireTestServers: the AWS-KMS-compatible server the
// driver is tested against (local-kms) and what it pulls in are requirements
// of the nested test module kms/awskms/localkms only, never of the module
// applications import.
func TestModuleDoesNotRequireTestServers(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	require.NoError(t, err)
	for _, m := range []string{"github.com/nsmithuk/local-kms", "github.com/sirupsen/logrus", "github.com/syndtr/goleveldb", "github.com/aws/aws-sdk-go "} {
		assert.NotContains(t, string(gomod), m)
	}
	nested, err := os.ReadFile(filepath.Join("localkms", "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(nested), "github.com/nsmithuk/local-kms", "the tests against local-kms are in the nested module")
}
