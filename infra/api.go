package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// accessLogFields are the access log line's fields: API Gateway's $context, one JSON object
// per request, the same fields the local edge writes.
var accessLogFields = [][2]string{
	{"requestId", "$context.requestId"},
	{"ip", "$context.identity.sourceIp"},
	{"requestTime", "$context.requestTime"},
	{"httpMethod", "$context.httpMethod"},
	{"resourcePath", "$context.resourcePath"},
	{"path", "$context.path"},
	{"status", "$context.status"},
	{"responseLength", "$context.responseLength"},
	{"latency", "$context.responseLatency"},
	{"integrationLatency", "$context.integrationLatency"},
	{"integrationStatus", "$context.integration.status"},
	{"authorizerError", "$context.authorizer.error"},
	{"sub", "$context.authorizer.claims.sub"},
	{"wafStatus", "$context.waf.status"},
	{"errorType", "$context.error.responseType"},
	{"xrayTraceId", "$context.xrayTraceId"},
}

// API is the seed's REST API ("ECS-fargate-api"), built from api/openapi.yaml, with its stage.
type API struct {
	Rest awsapigateway.SpecRestApi
	// StageArn is the deployed stage's ARN (the WAF association's resource).
	StageArn *string
}

// APIProps configures the REST API.
type APIProps struct {
	// Document is api/openapi.yaml, already rewritten for this stack.
	Document Document
	// Stage is decagon.yaml's stage (name, throttling).
	Stage topology.Stage
	// LogRetention is the retention of the access logs.
	LogRetention awslogs.RetentionDays
}

// NewAPI creates the regional REST API and its stage: throttling from decagon.yaml, JSON access
// logs, execution logging (INFO, no bodies), metrics and X-Ray tracing.
func NewAPI(scope constructs.Construct, id string, props APIProps) *API {
	c := constructs.NewConstruct(scope, jsii.String(id))
	logs := awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	t := props.Stage.Throttling
	rest := awsapigateway.NewSpecRestApi(c, jsii.String("RestApi"), &awsapigateway.SpecRestApiProps{
		RestApiName:    jsii.String(*awscdk.Stack_Of(scope).StackName() + "-api"),
		Description:    jsii.String("decagon: the public API, from api/openapi.yaml"),
		ApiDefinition:  awsapigateway.ApiDefinition_FromInline(map[string]any(props.Document)),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(true),
		// A warning on import (a VPC link that does not exist, an integration API Gateway cannot
		// use) fails the deployment instead of surfacing at the first request.
		FailOnWarnings: jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(props.Stage.Name),
			ThrottlingRateLimit:  jsii.Number(t.RateLimit),
			ThrottlingBurstLimit: jsii.Number(float64(t.BurstLimit)),
			MethodOptions:        methodOptions(c, props.Document, t.Methods),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(logs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat())),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_INFO,
			DataTraceEnabled:     jsii.Bool(false),
			MetricsEnabled:       jsii.Bool(true),
			TracingEnabled:       jsii.Bool(true),
		},
	})
	return &API{Rest: rest, StageArn: rest.DeploymentStage().StageArn()}
}

// methodOptions turns decagon.yaml's "METHOD /path" overrides into the stage's method settings
// (keyed "/path/METHOD"). An override of an operation the document lacks would fail the
// deployment; it is skipped with a warning on the construct instead.
func methodOptions(scope constructs.Construct, doc Document, m map[string]topology.Limit) *map[string]*awsapigateway.MethodDeploymentOptions {
	out := map[string]*awsapigateway.MethodDeploymentOptions{}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		method, path, _ := strings.Cut(key, " ")
		if !doc.HasOperation(method, path) {
			awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("decagon:unknown-operation"),
				jsii.String(fmt.Sprintf("decagon.yaml throttles %q, which api/openapi.yaml does not define: override skipped", key)))
			continue
		}
		l := m[key]
		out[path+"/"+method] = &awsapigateway.MethodDeploymentOptions{
			ThrottlingRateLimit:  jsii.Number(l.RateLimit),
			ThrottlingBurstLimit: jsii.Number(float64(l.BurstLimit)),
		}
	}
	return &out
}

// accessLogFormat renders accessLogFields as one JSON object.
func accessLogFormat() string {
	parts := make([]string, len(accessLogFields))
	for i, f := range accessLogFields {
		k, _ := json.Marshal(f[0])
		parts[i] = fmt.Sprintf(`%s:"%s"`, k, f[1])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
