package localkms_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awskmsapi "github.com/aws/aws-sdk-go-v2/service/kms"
)

func aliasInput(alias, key string) *awskmsapi.CreateAliasInput {
	return &awskmsapi.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(key)}
}
