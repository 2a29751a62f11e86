package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// The seed's WAF on the API stage, configured from decagon.yaml.
func TestFirewall(t *testing.T) {
	s := synth(t, "v2-dev")
	_, acl := s.one(t, "AWS::WAFv2::WebACL")
	w := s.stacks.App.Config.Topology.WAF
	if acl["Scope"] != "REGIONAL" {
		t.Errorf("scope %v", acl["Scope"])
	}
	rules := map[string]map[string]any{}
	for _, r := range acl["Rules"].([]any) {
		rules[get(r, "Name").(string)] = r.(map[string]any)
	}
	for _, g := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
		r, ok := rules[g]
		if !ok {
			t.Errorf("no rule group %s", g)
			continue
		}
		if !eq(r["OverrideAction"], map[string]any{"None": map[string]any{}}) {
			t.Errorf("%s override %v, want none (block mode)", g, js(r["OverrideAction"]))
		}
	}
	// Each body rule of a managed group counts there and blocks in ManagedBodyRules.
	for _, g := range managedGroups {
		for _, r := range g.body {
			if !strings.Contains(js(rules[g.name]), `{"ActionToUse":{"Count":{}},"Name":"`+r+`"}`) {
				t.Errorf("%s: %s does not count (it would block upload bodies): %s", g.name, r, js(rules[g.name]))
			}
		}
	}
	rate := get(rules["RatePerIP"], "Statement", "RateBasedStatement")
	if get(rate, "Limit") != float64(w.RateLimit.Limit) || get(rate, "EvaluationWindowSec") != w.RateLimit.Window.Seconds() || get(rate, "AggregateKeyType") != "IP" {
		t.Errorf("rate rule %s, want %d per %s per IP", js(rate), w.RateLimit.Limit, w.RateLimit.Window)
	}
	if got := get(rules["RatePerIP"], "Action", "Block", "CustomResponse", "ResponseCode"); got != 429.0 {
		t.Errorf("rate rule answers %v, want 429", got)
	}
	if got, want := get(acl, "AssociationConfig", "RequestBody", "API_GATEWAY", "DefaultSizeInspectionLimit"), fmt.Sprintf("KB_%d", inspectionLimit(max(w.RequestBodyLimit, w.Body.JSON.InspectLimit))>>10); got != want {
		t.Errorf("body inspection limit %v, want %s (decagon.yaml's JSON scope, as far as AWS WAF reaches)", got, want)
	}
	_, assoc := s.one(t, "AWS::WAFv2::WebACLAssociation")
	if !strings.Contains(js(assoc["ResourceArn"]), "/stages/") || !strings.Contains(js(assoc["ResourceArn"]), "ApiRestApi") {
		t.Errorf("the web ACL is associated with %s, want the API stage", js(assoc["ResourceArn"]))
	}
	_, logging := s.one(t, "AWS::WAFv2::LoggingConfiguration")
	group := get(logging, "LogDestinationConfigs", 0, "Fn::Join", 1, 5, "Ref")
	name, _ := get(s.resources("AWS::Logs::LogGroup")[group.(string)], "LogGroupName").(string)
	if !strings.HasPrefix(name, "aws-waf-logs-") {
		t.Errorf("WAF logs to %s (%q), want a log group named aws-waf-logs-*", js(logging), name)
	}
}

// The seed's Amazon Cognito.
func TestIdentity(t *testing.T) {
	s := synth(t, "v2-dev")
	has(t, s.app, "AWS::Cognito::UserPool", map[string]any{
		"UsernameAttributes":    []any{"email"},
		"MfaConfiguration":      "OPTIONAL",
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		"Policies": map[string]any{"PasswordPolicy": map[string]any{
			"MinimumLength": 12, "RequireLowercase": true, "RequireUppercase": true, "RequireNumbers": true, "RequireSymbols": true,
		}},
	})
	has(t, s.app, "AWS::Cognito::UserPoolGroup", map[string]any{"GroupName": "admin"})
	has(t, s.app, "AWS::Cognito::UserPoolClient", map[string]any{"GenerateSecret": false, "ExplicitAuthFlows": []any{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}})
	// Issue 17 item 3: the resource server with the API's scopes, a machine client with
	// client_credentials for them, and the people's client may ask for them too.
	_, rs := s.one(t, "AWS::Cognito::UserPoolResourceServer")
	var scopes []string
	for _, sc := range rs["Scopes"].([]any) {
		scopes = append(scopes, rs["Identifier"].(string)+"/"+get(sc, "ScopeName").(string))
	}
	want := append(slices.Clone(apiScopes), mustDocument(s.stacks.App.Config.OpenAPI).Scopes()...)
	for _, w := range want {
		if !slices.Contains(scopes, w) {
			t.Errorf("resource server scopes %v lack %s", scopes, w)
		}
	}
	var machine, people map[string]any
	for _, c := range s.resources("AWS::Cognito::UserPoolClient") {
		if c["GenerateSecret"] == true {
			machine = c
		} else {
			people = c
		}
	}
	if !eq(get(machine, "AllowedOAuthFlows"), []any{"client_credentials"}) || get(machine, "AllowedOAuthFlowsUserPoolClient") != true {
		t.Errorf("machine client %s, want client_credentials", js(machine))
	}
	if !eq(get(people, "AllowedOAuthFlows"), []any{"code"}) {
		t.Errorf("people's client flows %s, want the authorization code", js(get(people, "AllowedOAuthFlows")))
	}
	for _, c := range []map[string]any{machine, people} {
		for _, w := range apiScopes {
			// The identifier is the resource server's (a reference), the name literal.
			_, name, _ := strings.Cut(w, "/")
			if !strings.Contains(js(c["AllowedOAuthScopes"]), `"/`+name+`"`) {
				t.Errorf("client %s may not ask for %s", js(c["AllowedOAuthFlows"]), w)
			}
		}
	}
	if !strings.Contains(js(people["AllowedOAuthScopes"]), "aws.cognito.signin.user.admin") {
		t.Error("the people's client may not ask for aws.cognito.signin.user.admin, the scope a person's token reaches the API with")
	}
	if strings.Contains(js(machine["AllowedOAuthScopes"]), "openid") {
		t.Error("the machine client asks for openid: client_credentials has no user")
	}
	count(t, s, "AWS::Cognito::UserPoolDomain", 1)
	if get(s.raw, "Outputs", "TokenUrl") == nil || get(s.raw, "Outputs", "MachineClientId") == nil {
		t.Error("no TokenUrl or MachineClientId output")
	}
}

// The seed's "monitoring system for failure/error": alarms to SNS, a dashboard.
func TestMonitoring(t *testing.T) {
	s := synth(t, "v2-prod")
	_, topic := s.one(t, "AWS::SNS::Topic")
	if topic["KmsMasterKeyId"] == nil {
		t.Error("alarm topic not encrypted")
	}
	has(t, s.app, "AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "ops@example.com"})
	count(t, s, "AWS::CloudWatch::Dashboard", 1)
	want := map[string]int{ // metric → alarms expected
		"5XXError": 1, "4XXError": 1, "Latency": 1, "BlockedRequests": 1, "MemoryUtilization": 2,
		"FreeStorageSpace": 1, "DatabaseConnections": 1,
	}
	got := map[string]int{}
	for id, a := range s.resources("AWS::CloudWatch::Alarm") {
		if !strings.HasPrefix(id, "Monitoring") {
			continue
		}
		got[a["MetricName"].(string)]++
		if !strings.Contains(js(a["AlarmActions"]), "MonitoringAlarms") {
			t.Errorf("alarm %s does not notify the topic", id)
		}
	}
	for m, n := range want {
		if got[m] != n {
			t.Errorf("%d alarms on %s, want %d", got[m], m, n)
		}
	}
	if got["CPUUtilization"] != 3 { // 2 services + RDS
		t.Errorf("%d CPU alarms, want 3", got["CPUUtilization"])
	}
	has(t, s.app, "AWS::CloudWatch::Alarm", map[string]any{"MetricName": "Latency", "ExtendedStatistic": "p99"})
}

func TestOutputs(t *testing.T) {
	s := synth(t, "v2-dev")
	for _, o := range []string{"InvokeUrl", "UserPoolId", "UserPoolClientId", "UploadsBucket", "BastionInstanceId"} {
		if get(s.raw, "Outputs", o) == nil {
			t.Errorf("no output %s", o)
		}
	}
}

// cdk-nag's AwsSolutions pack runs on every configuration: nothing left unexplained, errors
// and warnings alike.
func TestNag(t *testing.T) {
	for _, config := range []string{"v2-dev", "v1-dev", "v2-prod", "three"} {
		t.Run(config, func(t *testing.T) {
			s := synth(t, config)
			for _, st := range []awscdk.Stack{s.stacks.App.Stack, s.stacks.Registry.Stack} {
				for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
					for _, a := range annotations(st.Node(), typ) {
						if strings.Contains(a.data, "AwsSolutions-") || strings.Contains(a.data, "CdkNagValidationFailure") {
							t.Errorf("unsuppressed %s at %s: %s", typ, a.path, a.data)
						}
					}
				}
			}
			// The pack did run: its report lists compliant rules.
			report := filepath.Join(testDir, config, "AwsSolutions-"+"-"+*s.stacks.App.StackName()+"-NagReport.csv")
			data, err := os.ReadFile(report)
			if err != nil || !strings.Contains(string(data), "AwsSolutions-VPC7") || !strings.Contains(string(data), "Suppressed") {
				t.Errorf("no cdk-nag report with suppressions at %s: %v", report, err)
			}
		})
	}
}
