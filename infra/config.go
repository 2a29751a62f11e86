package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/decagon/decagon/internal/topology"
)

// Config is what the app is built from: the context switches (cdk.json, `-c key=value`) and
// the two documents it reads.
type Config struct {
	// Region is the stack's region: context "region", else CDK_DEFAULT_REGION (the CLI sets it
	// from the profile), else us-east-1 as in the seed. The account stays unpinned, so synth
	// needs no credentials.
	Region string
	// Env is "dev" or "prod"; prod turns on Multi-AZ, deletion protection, longer backups and
	// retention, and a NAT gateway per AZ.
	Env string
	// VPCLink overrides decagon.yaml's vpcLink when set ("v2" or "v1").
	VPCLink string
	// AlarmEmail, when set, subscribes that address to the alarm topic.
	AlarmEmail string
	// ImageDigest is the service image's digest in the ECR repository ("sha256:<64 hex>"), as
	// the image command printed it: the task definitions run exactly that image, never a
	// moving tag. Without it only the registry stack is synthesized (the first step of a
	// deploy, before any image exists).
	ImageDigest string
	// MultiAZ runs the database in two AZs (default: on for prod).
	MultiAZ bool
	// CertificateArn, when set with ALBDomainName, adds an HTTPS listener (443) and makes the
	// integrations use HTTPS; otherwise the ALB listens on HTTP 80. Required in prod.
	CertificateArn string
	// ALBDomainName is the name in the certificate that resolves to the ALB.
	ALBDomainName string
	// VPCEndpoints adds interface endpoints for ECR, CloudWatch Logs and Secrets Manager and a
	// gateway endpoint for S3, so that the tasks' AWS traffic bypasses the NAT gateway.
	VPCEndpoints bool
	// CORSOrigins are the origins allowed to PUT to presigned upload URLs.
	CORSOrigins []string
	// Topology is decagon.yaml, parsed.
	Topology *topology.Topology
	// OpenAPI is api/openapi.yaml, raw.
	OpenAPI []byte
}

// digestRE matches an image digest as the task definitions take it.
var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Prod reports whether this is the production configuration.
func (c Config) Prod() bool { return c.Env == "prod" }

// LoadConfig reads the context switches from node and the documents they point at
// (context "topology", default ../decagon.yaml; context "openapi", default ../api/openapi.yaml).
func LoadConfig(node constructs.Node) (Config, error) {
	ctx := func(key, def string) string {
		v := node.TryGetContext(&key)
		if v == nil {
			return def
		}
		return strings.TrimSpace(fmt.Sprint(v))
	}
	var errs []error
	boolCtx := func(key string, def bool) bool {
		s := ctx(key, strconv.FormatBool(def))
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: want true or false, got %q", key, s))
		}
		return b
	}
	c := Config{
		Region:         ctx("region", cmp.Or(os.Getenv("CDK_DEFAULT_REGION"), "us-east-1")),
		Env:            ctx("env", "dev"),
		VPCLink:        ctx("vpcLink", ""),
		AlarmEmail:     ctx("alarmEmail", ""),
		ImageDigest:    ctx("imageDigest", ""),
		CertificateArn: ctx("certificateArn", ""),
		ALBDomainName:  ctx("albDomainName", ""),
	}
	if c.Env != "dev" && c.Env != "prod" {
		errs = append(errs, fmt.Errorf("context env: want dev or prod, got %q", c.Env))
	}
	c.MultiAZ = boolCtx("multiAz", c.Prod())
	c.VPCEndpoints = boolCtx("vpcEndpoints", false)
	for o := range strings.SplitSeq(ctx("corsOrigins", "*"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if (c.CertificateArn == "") != (c.ALBDomainName == "") {
		errs = append(errs, errors.New("context certificateArn and albDomainName go together"))
	}
	if c.Prod() && c.CertificateArn == "" {
		errs = append(errs, errors.New("context env=prod needs certificateArn and albDomainName: production traffic between API Gateway and the ALB is HTTPS"))
	}
	if c.ImageDigest != "" && !digestRE.MatchString(c.ImageDigest) {
		errs = append(errs, fmt.Errorf("context imageDigest: want sha256:<64 hex digits> (what the image command prints), got %q", c.ImageDigest))
	}
	topo, err := topology.Load(ctx("topology", filepath.Join("..", "decagon.yaml")))
	if err != nil {
		errs = append(errs, err)
	} else {
		c.Topology = topo
		switch c.VPCLink {
		case "":
			c.VPCLink = topo.VPCLink
		case topology.VPCLinkV1, topology.VPCLinkV2:
		default:
			errs = append(errs, fmt.Errorf("context vpcLink: want v1 or v2, got %q", c.VPCLink))
		}
	}
	c.OpenAPI, err = os.ReadFile(ctx("openapi", filepath.Join("..", "api", "openapi.yaml")))
	if err != nil {
		errs = append(errs, fmt.Errorf("read OpenAPI document: %w", err))
	}
	return c, errors.Join(errs...)
}
