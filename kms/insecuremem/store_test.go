package insecuremem_test

import (
	"testing"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/kmstest"
)

func TestMemoryStoreConformance(t *testing.T) {
	kmstest.RunStoreTests(t, func(t *testing.T) kms.Store { return insecuremem.NewStore() })
}

func TestMemoryStoreSubjectRewrap(t *testing.T) {
	kmstest.RunSubjectRewrap(t, insecuremem.NewStore())
}
