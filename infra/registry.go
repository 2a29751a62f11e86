package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// RegistryStack holds the ECR repository for the service image (the seed's "test1"
// repository). It is its own stack because the image must be pushed before the services that
// run it are created: deploy it, push, then deploy the app stack.
type RegistryStack struct {
	awscdk.Stack
	// Repository is the service image repository.
	Repository awsecr.Repository
}

// NewRegistryStack creates the repository: scan on push, immutable tags, untagged images
// expire after a day and at most 50 images are kept.
func NewRegistryStack(scope constructs.Construct, id string, cfg Config) *RegistryStack {
	st := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Region: jsii.String(cfg.Region)},
		Description: jsii.String("decagon: the ECR repository of the service image"),
	})
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	repo := awsecr.NewRepository(st, jsii.String("Repository"), &awsecr.RepositoryProps{
		RepositoryName:     jsii.String(id),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		Encryption:         awsecr.RepositoryEncryption_AES_256(),
		RemovalPolicy:      removal,
		EmptyOnDelete:      jsii.Bool(!cfg.Prod()),
		LifecycleRules: &[]*awsecr.LifecycleRule{
			{
				Description:  jsii.String("untagged images expire after a day"),
				RulePriority: jsii.Number(1),
				TagStatus:    awsecr.TagStatus_UNTAGGED,
				MaxImageAge:  awscdk.Duration_Days(jsii.Number(1)),
			},
			{
				Description:   jsii.String("keep the 50 newest images"),
				RulePriority:  jsii.Number(2),
				TagStatus:     awsecr.TagStatus_ANY,
				MaxImageCount: jsii.Number(50),
			},
		},
	})
	awscdk.NewCfnOutput(st, jsii.String("RepositoryUri"), &awscdk.CfnOutputProps{
		Value:       repo.RepositoryUri(),
		Description: jsii.String("docker push target: <uri>:<imageTag>"),
	})
	return &RegistryStack{Stack: st, Repository: repo}
}
