package main

import (
	"fmt"
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	waf "github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// Problem bodies of the WAF's own answers.
const (
	forbiddenBody = `{"type":"about:blank","title":"Forbidden","status":403}`
	throttledBody = `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"rate limit exceeded"}`
)

// managedGroups are the AWS managed rule groups, in evaluation order after the IP sets and
// the rate rule. The common rule set's body size rule only counts: API Gateway already limits
// payloads to 10 MB and /upload bodies are larger than the WAF inspects.
var managedGroups = []struct {
	name      string
	overrides []string // rules switched to count
}{
	{"AWSManagedRulesAmazonIpReputationList", nil},
	{"AWSManagedRulesCommonRuleSet", []string{"SizeRestrictions_BODY"}},
	{"AWSManagedRulesKnownBadInputsRuleSet", nil},
	{"AWSManagedRulesSQLiRuleSet", nil},
}

// Firewall is the seed's AWS WAF: a regional web ACL on the API stage, logging to CloudWatch.
type Firewall struct {
	ACL waf.CfnWebACL
}

// FirewallProps configures the web ACL.
type FirewallProps struct {
	// Spec is decagon.yaml's waf section.
	Spec topology.WAF
	// StageArn is the API stage the ACL protects.
	StageArn *string
	// LogRetention is the retention of the WAF logs.
	LogRetention awslogs.RetentionDays
}

// NewFirewall creates the IP sets, the web ACL (allow list, block list, rate-based rule per IP,
// the managed rule groups), its association with the stage and its logging.
func NewFirewall(scope constructs.Construct, id string, props FirewallProps) *Firewall {
	c := constructs.NewConstruct(scope, jsii.String(id))
	w := props.Spec
	count := w.Mode == topology.ModeCount
	var rules []any
	priority := 0
	add := func(r *waf.CfnWebACL_RuleProperty) {
		r.Priority = jsii.Number(float64(priority))
		r.VisibilityConfig = visibility(*r.Name)
		rules = append(rules, r)
		priority++
	}
	if st := ipSetStatement(c, "Allow", w.IPSets.Allow); st != nil {
		add(&waf.CfnWebACL_RuleProperty{Name: jsii.String("AllowList"), Statement: st, Action: &waf.CfnWebACL_RuleActionProperty{Allow: &waf.CfnWebACL_AllowActionProperty{}}})
	}
	if st := ipSetStatement(c, "Block", w.IPSets.Block); st != nil {
		add(&waf.CfnWebACL_RuleProperty{Name: jsii.String("BlockList"), Statement: st, Action: blockOrCount(count, "forbidden", 403, nil)})
	}
	add(&waf.CfnWebACL_RuleProperty{
		Name: jsii.String("RatePerIP"),
		Statement: &waf.CfnWebACL_StatementProperty{RateBasedStatement: &waf.CfnWebACL_RateBasedStatementProperty{
			AggregateKeyType:    jsii.String("IP"),
			Limit:               jsii.Number(float64(w.RateLimit.Limit)),
			EvaluationWindowSec: jsii.Number(w.RateLimit.Window.Seconds()),
		}},
		Action: blockOrCount(count, "throttled", 429, &[]any{&waf.CfnWebACL_CustomHTTPHeaderProperty{
			Name: jsii.String("Retry-After"), Value: jsii.String(fmt.Sprint(int(w.RateLimit.Window.Seconds()))),
		}}),
	})
	for _, g := range managedGroups {
		var overrides []any
		for _, name := range g.overrides {
			overrides = append(overrides, &waf.CfnWebACL_RuleActionOverrideProperty{
				Name:        jsii.String(name),
				ActionToUse: &waf.CfnWebACL_RuleActionProperty{Count: &waf.CfnWebACL_CountActionProperty{}},
			})
		}
		override := &waf.CfnWebACL_OverrideActionProperty{None: map[string]any{}}
		if count {
			override = &waf.CfnWebACL_OverrideActionProperty{Count: map[string]any{}}
		}
		add(&waf.CfnWebACL_RuleProperty{
			Name: jsii.String(g.name),
			Statement: &waf.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: &waf.CfnWebACL_ManagedRuleGroupStatementProperty{
				VendorName:          jsii.String("AWS"),
				Name:                jsii.String(g.name),
				RuleActionOverrides: nilIfEmpty(overrides),
			}},
			OverrideAction: override,
		})
	}
	acl := waf.NewCfnWebACL(c, jsii.String("WebAcl"), &waf.CfnWebACLProps{
		Name:             jsii.String(*awscdk.Stack_Of(c).StackName() + "-api"),
		Scope:            jsii.String("REGIONAL"),
		Description:      jsii.String("decagon web ACL of the API stage, from decagon.yaml"),
		DefaultAction:    &waf.CfnWebACL_DefaultActionProperty{Allow: &waf.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: visibility("decagon"),
		Rules:            &rules,
		CustomResponseBodies: &map[string]any{
			"forbidden": &waf.CfnWebACL_CustomResponseBodyProperty{ContentType: jsii.String("APPLICATION_JSON"), Content: jsii.String(forbiddenBody)},
			"throttled": &waf.CfnWebACL_CustomResponseBodyProperty{ContentType: jsii.String("APPLICATION_JSON"), Content: jsii.String(throttledBody)},
		},
		AssociationConfig: &waf.CfnWebACL_AssociationConfigProperty{RequestBody: &map[string]any{
			"API_GATEWAY": &waf.CfnWebACL_RequestBodyAssociatedResourceTypeConfigProperty{
				DefaultSizeInspectionLimit: jsii.String(fmt.Sprintf("KB_%d", w.RequestBodyLimit>>10)),
			},
		}},
	})
	waf.NewCfnWebACLAssociation(c, jsii.String("Association"), &waf.CfnWebACLAssociationProps{
		ResourceArn: props.StageArn,
		WebAclArn:   acl.AttrArn(),
	})
	// WAF log groups must be named aws-waf-logs-*, and their ARN given without the ":*".
	name := "aws-waf-logs-" + *awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(100)})
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	waf.NewCfnLoggingConfiguration(c, jsii.String("Logging"), &waf.CfnLoggingConfigurationProps{
		ResourceArn: acl.AttrArn(),
		LogDestinationConfigs: &[]any{awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: logs.LogGroupName(),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	})
	return &Firewall{ACL: acl}
}

// ipSetStatement creates the IPv4 and IPv6 sets of cidrs and a statement matching either;
// nil when cidrs is empty.
func ipSetStatement(scope constructs.Construct, id string, cidrs []string) *waf.CfnWebACL_StatementProperty {
	var v4, v6 []*string
	for _, s := range cidrs {
		p := netip.MustParsePrefix(s) // decagon.yaml is validated
		if p.Addr().Is4() {
			v4 = append(v4, jsii.String(s))
		} else {
			v6 = append(v6, jsii.String(s))
		}
	}
	var refs []any
	for _, set := range []struct {
		version string
		addrs   []*string
	}{{"IPV4", v4}, {"IPV6", v6}} {
		if len(set.addrs) == 0 {
			continue
		}
		ip := waf.NewCfnIPSet(scope, jsii.String(id+set.version), &waf.CfnIPSetProps{
			Scope:            jsii.String("REGIONAL"),
			IpAddressVersion: jsii.String(set.version),
			Addresses:        &set.addrs,
		})
		refs = append(refs, &waf.CfnWebACL_StatementProperty{IpSetReferenceStatement: &waf.CfnWebACL_IPSetReferenceStatementProperty{Arn: ip.AttrArn()}})
	}
	switch len(refs) {
	case 0:
		return nil
	case 1:
		return refs[0].(*waf.CfnWebACL_StatementProperty)
	default:
		return &waf.CfnWebACL_StatementProperty{OrStatement: &waf.CfnWebACL_OrStatementProperty{Statements: &refs}}
	}
}

// blockOrCount is a rule action: block with a problem body and status, or count only.
func blockOrCount(count bool, body string, status int, headers *[]any) *waf.CfnWebACL_RuleActionProperty {
	if count {
		return &waf.CfnWebACL_RuleActionProperty{Count: &waf.CfnWebACL_CountActionProperty{}}
	}
	resp := &waf.CfnWebACL_CustomResponseProperty{ResponseCode: jsii.Number(float64(status)), CustomResponseBodyKey: jsii.String(body)}
	if headers != nil {
		resp.ResponseHeaders = headers
	}
	return &waf.CfnWebACL_RuleActionProperty{Block: &waf.CfnWebACL_BlockActionProperty{CustomResponse: resp}}
}

func visibility(name string) *waf.CfnWebACL_VisibilityConfigProperty {
	return &waf.CfnWebACL_VisibilityConfigProperty{
		CloudWatchMetricsEnabled: jsii.Bool(true),
		MetricName:               jsii.String(name),
		SampledRequestsEnabled:   jsii.Bool(true),
	}
}

func nilIfEmpty(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return &l
}
