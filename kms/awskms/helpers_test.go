package awskms_test

import "github.com/piiguard/piiguard/kms/awskms"

// The driver's tests against an AWS-KMS-compatible server (local-kms) live
// in the nested module kms/awskms/localkms, so that local-kms is not a
// requirement of piiguard's module; the tests here need no server, or serve
// canned answers themselves.

const (
	testRegion          = "eu-west-2"
	testAccessKeyID     = "AKIAPIIGUARDTEST0001"
	testSecretAccessKey = "piiguard-test-SECRET-access-key-0123456789"
)

// testOptions are driver options that reach the server at endpoint with
// the test credentials.
func testOptions(endpoint string) awskms.Options {
	return awskms.Options{
		Region:      testRegion,
		Endpoint:    endpoint,
		Credentials: awskms.StaticCredentials(testAccessKeyID, testSecretAccessKey, ""),
	}
}
