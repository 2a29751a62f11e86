package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/decagon/decagon/internal/topology"
)

const sampleDoc = `
openapi: 3.0.3
info: {title: t, version: "1", description: "mentions ${decagon:anything} in prose"}
servers: [{url: "http://127.0.0.1:8080"}]
security: [{cognito: []}]
paths:
  /things/{id}:
    get:
      security: [{cognito: ["decagon/things.read"]}]
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: "http://${stageVariables.albHost}/things/{id}"
        connectionType: VPC_LINK
        connectionId: "${stageVariables.vpcLinkId}"
    delete:
      security: [{cognito: ["decagon/things.write", "admin"]}]
      x-amazon-apigateway-integration: {type: mock}
  /local/{sig}:
    put:
      security: []
      x-decagon-local-only: true
      x-amazon-apigateway-integration: {type: mock}
components:
  securitySchemes:
    cognito:
      type: apiKey
      x-amazon-apigateway-authorizer: {type: cognito_user_pools, providerARNs: ["${decagon:userPoolArn}"]}
`

func TestRewrite(t *testing.T) {
	doc, err := ParseDocument([]byte(sampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		in         Integration
		wantURI    string
		wantTarget any
	}{
		{"v2", Integration{Scheme: "http", Target: "arn:alb"}, "http://${stageVariables.albHost}/things/{id}", "arn:alb"},
		{"v1", Integration{Scheme: "http"}, "http://${stageVariables.albHost}/things/{id}", nil},
		{"https", Integration{Scheme: "https"}, "https://${stageVariables.albHost}/things/{id}", nil},
		{"literal", Integration{Scheme: "http", Host: "alb.internal", ConnectionID: "vl-123"}, "http://alb.internal/things/{id}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := doc.Rewrite(map[string]string{"userPoolArn": "arn:pool"}, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			integ := get(map[string]any(out), "paths", "/things/{id}", "get", "x-amazon-apigateway-integration")
			wantConn := "${stageVariables.vpcLinkId}"
			if tc.in.ConnectionID != "" {
				wantConn = tc.in.ConnectionID
			}
			if get(integ, "uri") != tc.wantURI || get(integ, "integrationTarget") != tc.wantTarget || get(integ, "connectionId") != wantConn {
				t.Errorf("integration = %s", js(integ))
			}
			if got := get(map[string]any(out), "components", "securitySchemes", "cognito", "x-amazon-apigateway-authorizer", "providerARNs", 0); got != "arn:pool" {
				t.Errorf("providerARNs[0] = %v", got)
			}
			if out["servers"] != nil || get(map[string]any(out), "paths", "/local/{sig}") != nil {
				t.Errorf("servers or the local-only path kept: %s", js(out))
			}
			if !strings.Contains(js(out["info"]), "${decagon:anything}") {
				t.Error("prose was rewritten")
			}
			if get(map[string]any(out), "paths", "/things/{id}", "delete", "x-amazon-apigateway-integration", "integrationTarget") != nil {
				t.Error("a non-VPC-link integration got an integrationTarget")
			}
		})
	}
	// The original is untouched.
	if !strings.Contains(js(doc), "${decagon:userPoolArn}") || doc["servers"] == nil {
		t.Error("Rewrite changed its receiver")
	}
}

func TestRewriteErrors(t *testing.T) {
	doc, err := ParseDocument([]byte(sampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doc.Rewrite(map[string]string{}, Integration{Scheme: "http"}); err == nil || !strings.Contains(err.Error(), "unknown placeholder ${decagon:userPoolArn}") {
		t.Errorf("Rewrite without values = %v", err)
	}
	bad := strings.Replace(sampleDoc, `uri: "http://`, `uri: "ftp://`, 1)
	doc, _ = ParseDocument([]byte(bad))
	if _, err := doc.Rewrite(map[string]string{"userPoolArn": "x"}, Integration{Scheme: "http"}); err == nil || !strings.Contains(err.Error(), "GET /things/{id}") {
		t.Errorf("Rewrite with an ftp uri = %v", err)
	}
	for _, data := range []string{"", "openapi: 3.0.3\n", "[1, 2"} {
		if _, err := ParseDocument([]byte(data)); err == nil {
			t.Errorf("ParseDocument(%q) accepted", data)
		}
	}
}

func TestScopes(t *testing.T) {
	doc, _ := ParseDocument([]byte(sampleDoc))
	if got, want := doc.Scopes(), []string{"admin", "decagon/things.read", "decagon/things.write"}; !slices.Equal(got, want) {
		t.Errorf("Scopes() = %v, want %v", got, want)
	}
	servers := resourceServers(doc.Scopes())
	if len(servers) != 1 || servers[0].identifier != "decagon" || !slices.Equal(servers[0].names, []string{"admin", "things.read", "things.write"}) {
		t.Errorf("resourceServers = %+v", servers)
	}
	if !doc.HasOperation("GET", "/things/{id}") || doc.HasOperation("POST", "/things/{id}") || doc.HasOperation("GET", "/nope") {
		t.Error("HasOperation is wrong")
	}
}

func TestAccessLogFormat(t *testing.T) {
	var fields map[string]string
	if err := json.Unmarshal([]byte(accessLogFormat()), &fields); err != nil {
		t.Fatalf("access log format is not JSON: %v", err)
	}
	for _, k := range []string{"requestId", "ip", "requestTime", "httpMethod", "resourcePath", "status", "responseLength", "latency", "integrationLatency", "authorizerError"} {
		if !strings.HasPrefix(fields[k], "$context.") {
			t.Errorf("field %s = %q", k, fields[k])
		}
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		ctx     map[string]any
		wantErr string
	}{
		{"defaults", nil, ""},
		{"prod", map[string]any{"env": "prod", "certificateArn": "arn:cert", "albDomainName": "alb.example.com"}, ""},
		{"prod without a certificate", map[string]any{"env": "prod"}, "env=prod needs certificateArn"},
		{"bad digest", map[string]any{"imageDigest": "latest"}, "context imageDigest"},
		{"digest", map[string]any{"imageDigest": testDigest}, ""},
		{"bad env", map[string]any{"env": "staging"}, "context env"},
		{"bad vpcLink", map[string]any{"vpcLink": "v3"}, "context vpcLink"},
		{"bad bool", map[string]any{"multiAz": "maybe"}, "context multiAz"},
		{"cert without name", map[string]any{"certificateArn": "arn:cert"}, "go together"},
		{"missing topology", map[string]any{"topology": "/nonexistent/decagon.yaml"}, "load topology"},
		{"missing openapi", map[string]any{"openapi": "/nonexistent/openapi.yaml"}, "read OpenAPI document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			cfg, err := LoadConfig(app.Node())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.MultiAZ != cfg.Prod() || cfg.VPCLink != cfg.Topology.VPCLink || cfg.Region == "" {
					t.Errorf("config = %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadConfig = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckRoutes(t *testing.T) {
	doc, _ := ParseDocument([]byte(sampleDoc))
	for _, tc := range []struct {
		topology string
		wantErr  string
	}{
		{"services: [{name: things, pathRules: [{priority: 1, paths: [/things/*]}]}]", ""},
		{"services: [{name: things, pathRules: [{priority: 1, paths: [/things]}]}]", "GET /things/{id} reaches no service"},
	} {
		topo, err := topology.Parse([]byte(tc.topology))
		if err != nil {
			t.Fatal(err)
		}
		err = checkRoutes(doc, topo)
		if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("checkRoutes(%s) = %v, want %q", tc.topology, err, tc.wantErr)
		}
	}
}
