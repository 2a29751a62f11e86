// Command infra is the CDK app that deploys decagon to AWS: every resource of the seed, built
// from decagon.yaml and api/openapi.yaml. `npx aws-cdk@2 synth` (or `go run .`) writes the
// CloudFormation templates to cdk.out without AWS credentials; `npx aws-cdk@2 deploy --all`
// deploys them. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := Build(app); err != nil {
		fmt.Fprintln(os.Stderr, "decagon infra:", err)
		os.Exit(1)
	}
	app.Synth(nil)
}

// Stacks are the stacks of the app.
type Stacks struct {
	// Registry holds the ECR repository; it is deployed first so that an image can be pushed
	// before the services that run it exist.
	Registry *RegistryStack
	// App holds everything else; nil until an image digest is given (context imageDigest).
	App *AppStack
}

// featureFlags are CDK feature flags the app relies on; set here, not only in cdk.json, so that
// tests synthesize the same templates.
var featureFlags = map[string]any{
	// Access logs to a bucket with object ownership enforced are granted by bucket policy.
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
	// The app stack refers to the registry stack's repository: keep CDK's strong references
	// (an export the consumer must release before the producer changes it).
	"@aws-cdk/core:defaultCrossStackReferences": "strong",
}

// Build reads the configuration from app's context and adds decagon's stacks to app, with
// cdk-nag's AwsSolutions checks.
func Build(app awscdk.App) (Stacks, error) {
	for flag, on := range featureFlags {
		app.Node().SetContext(jsii.String(flag), on)
	}
	cfg, err := LoadConfig(app.Node())
	if err != nil {
		return Stacks{}, err
	}
	doc, err := ParseDocument(cfg.OpenAPI)
	if err != nil {
		return Stacks{}, err
	}
	if err := checkRoutes(doc, cfg.Topology); err != nil {
		return Stacks{}, err
	}
	prefix := "decagon-" + cfg.Env
	reg := NewRegistryStack(app, prefix+"-registry", cfg)
	if cfg.ImageDigest == "" {
		// The first step of a deploy: the repository, before any image exists. Services that
		// cannot pull their image would fail and roll the whole stack back.
		fmt.Fprintf(os.Stderr, "decagon infra: no -c imageDigest=sha256:...: only %s is synthesized (make deploy pushes the image, then deploys %s with its digest)\n", *reg.StackName(), prefix)
		applyNag(app, reg, nil)
		return Stacks{Registry: reg}, nil
	}
	st := NewAppStack(app, prefix, cfg, reg.Repository)
	applyNag(app, reg, st)
	return Stacks{Registry: reg, App: st}, nil
}
