package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
)

// The seed's internal ALB (in the private subnets, not the seed's public ones) and its VPC link
// chain; v2 goes straight to the ALB, v1 through an NLB with an ALB-type target group.
func TestLoadBalancers(t *testing.T) {
	for _, tc := range []struct {
		config string
		v1     bool
		port   float64
		proto  string
	}{
		{"v2-dev", false, 80, "HTTP"},
		{"v1-dev", true, 80, "HTTP"},
		{"v2-prod", false, 443, "HTTPS"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			s := synth(t, tc.config)
			lbs := s.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
			var alb map[string]any
			var albID string
			for id, lb := range lbs {
				if lb["Type"] == "application" {
					alb, albID = lb, id
				}
				if lb["Scheme"] != "internal" {
					t.Errorf("load balancer %s scheme %v, want internal", id, lb["Scheme"])
				}
				for _, sn := range lb["Subnets"].([]any) {
					if !strings.Contains(get(sn, "Ref").(string), "private") {
						t.Errorf("load balancer %s in subnet %v, want the private subnets", id, sn)
					}
				}
			}
			if alb == nil {
				t.Fatal("no ALB")
			}
			listeners := s.resources("AWS::ElasticLoadBalancingV2::Listener")
			found := false
			for _, l := range listeners {
				if eq(l["LoadBalancerArn"], ref(albID)) {
					found = true
					if l["Port"] != tc.port || l["Protocol"] != tc.proto {
						t.Errorf("ALB listener %v/%v, want %v/%v", l["Port"], l["Protocol"], tc.port, tc.proto)
					}
					if got := get(l, "DefaultActions", 0, "FixedResponseConfig", "StatusCode"); got != "404" {
						t.Errorf("ALB default action status %v, want a 404 problem", got)
					}
				}
			}
			if !found {
				t.Error("no ALB listener")
			}
			nlbs, v1Links, v2Links := 0, len(s.resources("AWS::ApiGateway::VpcLink")), len(s.resources("AWS::ApiGatewayV2::VpcLink"))
			for _, lb := range lbs {
				if lb["Type"] == "network" {
					nlbs++
				}
			}
			if tc.v1 {
				if nlbs != 1 || v1Links != 1 || v2Links != 0 {
					t.Errorf("v1: %d NLB, %d V1 links, %d V2 links; want 1, 1, 0", nlbs, v1Links, v2Links)
				}
				has(t, s.app, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"TargetType": "alb", "Protocol": "TCP", "Port": 80, "HealthCheckPath": "/health-check"})
				has(t, s.app, "AWS::ElasticLoadBalancingV2::Listener", map[string]any{"Protocol": "TCP", "Port": 80})
			} else if nlbs != 0 || v1Links != 0 || v2Links != 1 {
				t.Errorf("v2: %d NLB, %d V1 links, %d V2 links; want 0, 0, 1", nlbs, v1Links, v2Links)
			}
		})
	}
}

// The seed's REST API and stage "Test", from api/openapi.yaml.
func TestAPI(t *testing.T) {
	for _, tc := range []struct {
		config, scheme, host string
		v2                   bool
	}{
		{"v2-dev", "http", "LoadBalancerAlb", true},
		{"v1-dev", "http", "VpcLinkNlb", false},
		{"v2-prod", "https", "alb.internal.example.com", true},
	} {
		t.Run(tc.config, func(t *testing.T) {
			s := synth(t, tc.config)
			_, api := s.one(t, "AWS::ApiGateway::RestApi")
			if !eq(get(api, "EndpointConfiguration", "Types"), []any{"REGIONAL"}) {
				t.Errorf("endpoint types %v, want REGIONAL", get(api, "EndpointConfiguration", "Types"))
			}
			body := api["Body"].(map[string]any)
			var left []error
			substitute(body, map[string]string{}, &left) // outside prose, every placeholder is an error
			if len(left) > 0 {
				t.Errorf("placeholders left in the body: %v", left)
			}
			if body["servers"] != nil {
				t.Error("servers kept in the body (API Gateway would derive a base path)")
			}
			if !strings.Contains(js(get(body, "components", "securitySchemes", "cognito")), `"Fn::GetAtt":["IdentityUserPool`) {
				t.Error("the authorizer does not name the user pool")
			}
			ops := 0
			src := mustDocument(s.stacks.App.Config.OpenAPI)
			Document(body).Operations(func(path, method string, op map[string]any) {
				ops++
				// API Gateway applies method-level security only (AWS-FACTS item 3): every
				// method but the public ones carries the Cognito requirement itself, with the
				// document's scopes (none yet; read and write once the operations name them).
				sec, ok := op["security"].([]any)
				public := path == "/health-check"
				if !ok || len(sec) == 0 {
					if !public {
						t.Errorf("%s %s: no method-level security (API Gateway ignores the root's)", method, path)
					}
				} else if public || len(sec) != 1 || get(sec, 0, "cognito") == nil {
					t.Errorf("%s %s: security %s, want exactly the Cognito requirement", method, path, js(sec))
				}
				srcOp := get(map[string]any(src), "paths", path, method)
				if !eq(get(sec, 0, "cognito"), get(srcOp, "security", 0, "cognito")) {
					t.Errorf("%s %s: authorization scopes %s, the document's %s", method, path, js(get(sec, 0, "cognito")), js(get(srcOp, "security", 0, "cognito")))
				}
				integ := op["x-amazon-apigateway-integration"].(map[string]any)
				if integ["connectionType"] != "VPC_LINK" || integ["type"] != "http_proxy" || !strings.Contains(js(integ["connectionId"]), `"Ref":"VpcLink`) {
					t.Errorf("%s %s: integration %s, want an http_proxy through the VPC link, its ID literal", method, path, js(integ))
				}
				if strings.Contains(js(integ), "stageVariables") {
					t.Errorf("%s %s: integration %s resolves a stage variable at request time", method, path, js(integ))
				}
				if uri := js(integ["uri"]); !strings.Contains(uri, tc.scheme+"://") || !strings.Contains(uri, tc.host) {
					t.Errorf("%s %s: uri %s, want %s://%s...", method, path, uri, tc.scheme, tc.host)
				}
				if (integ["integrationTarget"] != nil) != tc.v2 {
					t.Errorf("%s %s: integrationTarget %v with vpcLink v2 = %v", method, path, integ["integrationTarget"], tc.v2)
				}
			})
			if ops < 5 {
				t.Errorf("%d operations in the body", ops)
			}
			if api["FailOnWarnings"] != true {
				t.Errorf("FailOnWarnings %v: an import warning must fail the deployment", api["FailOnWarnings"])
			}
			if body["x-amazon-apigateway-request-validator"] == nil || body["x-amazon-apigateway-gateway-responses"] == nil {
				t.Error("request validators or gateway responses missing from the body")
			}
			_, stage := s.one(t, "AWS::ApiGateway::Stage")
			topo := s.stacks.App.Config.Topology
			rows := []struct {
				what      string
				got, want any
			}{
				{"stage name", stage["StageName"], "Test"},
				{"tracing", stage["TracingEnabled"], true},
				{"logging", get(stage, "MethodSettings", 0, "LoggingLevel"), "INFO"},
				{"no bodies in logs", get(stage, "MethodSettings", 0, "DataTraceEnabled"), false},
				{"metrics", get(stage, "MethodSettings", 0, "MetricsEnabled"), true},
				{"rate", get(stage, "MethodSettings", 0, "ThrottlingRateLimit"), topo.Stage.Throttling.RateLimit},
				{"burst", get(stage, "MethodSettings", 0, "ThrottlingBurstLimit"), float64(topo.Stage.Throttling.BurstLimit)},
				{"JSON access log", strings.HasPrefix(get(stage, "AccessLogSetting", "Format").(string), `{"requestId":"$context.requestId"`), true},
			}
			for _, r := range rows {
				if !eq(r.got, r.want) {
					t.Errorf("stage %s = %s, want %s", r.what, js(r.got), js(r.want))
				}
			}
			if stage["Variables"] != nil {
				t.Errorf("stage variables %s: the integrations name the link and host literally", js(stage["Variables"]))
			}
		})
	}
}

// Per-method throttling: an override of an operation the document defines is a method setting;
// one it lacks is skipped with a warning.
func TestMethodThrottling(t *testing.T) {
	s := synth(t, "three")
	_, stage := s.one(t, "AWS::ApiGateway::Stage")
	doc := mustDocument(s.stacks.App.Config.OpenAPI)
	for key, l := range s.stacks.App.Config.Topology.Stage.Throttling.Methods {
		method, path, _ := strings.Cut(key, " ")
		want := map[string]any{"HttpMethod": method, "ResourcePath": "/" + strings.ReplaceAll(path, "/", "~1"), "ThrottlingRateLimit": l.RateLimit, "ThrottlingBurstLimit": float64(l.BurstLimit)}
		found := false
		for _, ms := range stage["MethodSettings"].([]any) {
			match := true
			for k, v := range want {
				match = match && eq(get(ms, k), v)
			}
			found = found || match
		}
		if found != doc.HasOperation(method, path) {
			t.Errorf("%s: method setting present = %v, operation in the document = %v", key, found, doc.HasOperation(method, path))
		}
	}
	if !strings.Contains(strings.Join(synthWarnings(s), "\n"), "GET /nope") {
		t.Errorf("no warning for GET /nope: %s", js(synthWarnings(s)))
	}
}

// synthWarnings returns the warnings recorded on the app stack's constructs.
func synthWarnings(s *synthesized) []string {
	var out []string
	for _, m := range annotations(s.stacks.App.Node(), "aws:cdk:warning") {
		out = append(out, m.data)
	}
	return out
}

// annotation is one error or warning recorded on a construct during synthesis.
type annotation struct{ path, data string }

// annotations returns the messages of type typ ("aws:cdk:error", "aws:cdk:warning") recorded on
// node and every construct under it.
func annotations(node constructs.Node, typ string) []annotation {
	var out []annotation
	for _, c := range *node.FindAll(constructs.ConstructOrder_PREORDER) {
		for _, e := range *c.Node().Metadata() {
			if *e.Type == typ {
				out = append(out, annotation{*c.Node().Path(), fmt.Sprint(e.Data)})
			}
		}
	}
	return out
}
