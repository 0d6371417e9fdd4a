package piiguardvet_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/piiguard/piiguard/analysis/piiguardvet"
)

func TestRevealedValuesReachingLogsAndErrors(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), piiguardvet.Analyzer, "reveal")
}

func TestUntaggedFieldsNamedLikePersonalData(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), piiguardvet.Analyzer, "fields")
}

func TestOpenedRecordsMarshalledOrLogged(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), piiguardvet.Analyzer, "records")
}
