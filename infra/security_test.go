package main

import (
	"os"
	"path/filepath"
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
	common := js(rules["AWSManagedRulesCommonRuleSet"])
	if !strings.Contains(common, `{"ActionToUse":{"Count":{}},"Name":"SizeRestrictions_BODY"}`) {
		t.Errorf("the common rule set blocks large bodies (uploads): %s", common)
	}
	rate := get(rules["RatePerIP"], "Statement", "RateBasedStatement")
	if get(rate, "Limit") != float64(w.RateLimit.Limit) || get(rate, "EvaluationWindowSec") != w.RateLimit.Window.Seconds() || get(rate, "AggregateKeyType") != "IP" {
		t.Errorf("rate rule %s, want %d per %s per IP", js(rate), w.RateLimit.Limit, w.RateLimit.Window)
	}
	if got := get(rules["RatePerIP"], "Action", "Block", "CustomResponse", "ResponseCode"); got != 429.0 {
		t.Errorf("rate rule answers %v, want 429", got)
	}
	if got := get(acl, "AssociationConfig", "RequestBody", "API_GATEWAY", "DefaultSizeInspectionLimit"); got != "KB_16" {
		t.Errorf("body inspection limit %v, want KB_16", got)
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
		"5XXError": 1, "4XXError": 1, "Latency": 1, "BlockedRequests": 1,
		"UnHealthyHostCount": 2, "HTTPCode_Target_5XX_Count": 2, "MemoryUtilization": 2,
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
