package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// applyNag runs cdk-nag's AwsSolutions pack on the app and adds the suppressions.
func applyNag(app awscdk.App, reg *RegistryStack, st *AppStack) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	if st != nil {
		suppress(reg, st)
	}
}
