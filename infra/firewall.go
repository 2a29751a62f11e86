package main

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	waf "github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// Problem bodies of the WAF's own answers (AWS WAF sends them as application/json: its custom
// response bodies know no other JSON type).
const (
	forbiddenBody = `{"type":"about:blank","title":"Forbidden","status":403,"detail":"blocked by the web application firewall"}`
	throttledBody = `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"rate limit exceeded"}`
	tooLargeBody  = `{"type":"about:blank","title":"Request Entity Too Large","status":413,"detail":"a JSON body larger than the firewall inspects"}`
)

// managedGroup is an AWS managed rule group and its rules that inspect the body. Those rules
// count inside the group and the ManagedBodyRules rule blocks on their labels, except for
// upload bodies: files are not inspected, as the local WAF does not inspect them, while the
// group's other rules still inspect an upload's URI, query and headers.
//
// Why labels and not a scope-down statement on the group: a scope-down statement takes the
// whole group off a request (an upload's URI and headers would go uninspected too), and two
// copies of a group with opposite scope-downs would double its capacity units (the common
// rule set alone is 700 of the web ACL's 1,500 included). Counting a rule and matching its
// label later is the pattern the AWS WAF Developer Guide gives for exempting one rule of a
// managed group on some paths ("Label match rule statement").
type managedGroup struct {
	name      string
	namespace string   // the label namespace of its rules
	body      []string // its rules that inspect the body, by name; the label is name with _Body
}

// managedGroups are the AWS managed rule groups, in evaluation order after the IP sets, the
// rate rule and the JSON size rule.
var managedGroups = []managedGroup{
	{"AWSManagedRulesAmazonIpReputationList", "amazon-ip-list", nil},
	{"AWSManagedRulesCommonRuleSet", "core-rule-set", []string{"SizeRestrictions_BODY", "EC2MetaDataSSRF_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "CrossSiteScripting_BODY"}},
	{"AWSManagedRulesKnownBadInputsRuleSet", "known-bad-inputs", []string{"JavaDeserializationRCE_BODY", "Log4JRCE_BODY"}},
	{"AWSManagedRulesSQLiRuleSet", "sql-database", []string{"SQLi_BODY", "SQLiExtendedPatterns_BODY"}},
}

// bodyLabels are the labels the body rules of the managed groups add to a request.
func bodyLabels() []string {
	var out []string
	for _, g := range managedGroups {
		for _, r := range g.body {
			out = append(out, "awswaf:managed:aws:"+g.namespace+":"+strings.TrimSuffix(r, "_BODY")+"_Body")
		}
	}
	return out
}

// Firewall is the seed's AWS WAF: a regional web ACL on the API stage, logging to CloudWatch.
type Firewall struct {
	ACL waf.CfnWebACL
}

// FirewallProps configures the web ACL.
type FirewallProps struct {
	// Spec is decagon.yaml's waf section.
	Spec topology.WAF
	// Stage is the stage name: AWS WAF sees an API Gateway request's path with it (/Test/test),
	// so the path patterns accept it as an optional prefix.
	Stage string
	// Bodies are the operations' request bodies (api/openapi.yaml): JSON ones must not pass
	// uninspected, files are not inspected.
	Bodies []Body
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
	// The JSON scope's limit (decagon.yaml waf.body.json, 128 KiB: the document's largest JSON
	// body) as far as AWS WAF reaches for API Gateway (64 KiB): a longer JSON body is refused
	// below, never passed with its tail unread.
	limit := inspectionLimit(max(w.RequestBodyLimit, w.Body.JSON.InspectLimit))
	var jsonBodies, fileBodies []Body
	for _, b := range props.Bodies {
		if b.JSON {
			jsonBodies = append(jsonBodies, b)
		} else {
			fileBodies = append(fileBodies, b)
		}
	}
	// Oversize handling: a JSON body longer than the web ACL inspects is refused, never passed
	// with its tail unread. A size constraint on the body with oversize handling MATCH matches
	// every body past the inspection limit ("Oversize web request components").
	if st := operationsStatement(jsonBodies, props.Stage); st != nil {
		add(&waf.CfnWebACL_RuleProperty{
			Name: jsii.String("JsonBodyTooLarge"),
			Statement: &waf.CfnWebACL_StatementProperty{AndStatement: &waf.CfnWebACL_AndStatementProperty{Statements: &[]any{
				st,
				&waf.CfnWebACL_StatementProperty{SizeConstraintStatement: &waf.CfnWebACL_SizeConstraintStatementProperty{
					FieldToMatch:        &waf.CfnWebACL_FieldToMatchProperty{Body: &waf.CfnWebACL_BodyProperty{OversizeHandling: jsii.String("MATCH")}},
					ComparisonOperator:  jsii.String("GT"),
					Size:                jsii.Number(float64(limit)),
					TextTransformations: noTransformation(),
				}},
			}}},
			Action: blockOrCount(count, "too_large", 413, nil),
		})
	}
	for _, g := range managedGroups {
		var overrides []any
		for _, name := range g.body {
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
	// The body rules, counted in their groups, block here unless the body is a file.
	var labels []any
	for _, l := range bodyLabels() {
		labels = append(labels, &waf.CfnWebACL_StatementProperty{LabelMatchStatement: &waf.CfnWebACL_LabelMatchStatementProperty{Key: jsii.String(l), Scope: jsii.String("LABEL")}})
	}
	var bodyMatch any = &waf.CfnWebACL_StatementProperty{OrStatement: &waf.CfnWebACL_OrStatementProperty{Statements: &labels}}
	if files := operationsStatement(fileBodies, props.Stage); files != nil {
		bodyMatch = &waf.CfnWebACL_StatementProperty{AndStatement: &waf.CfnWebACL_AndStatementProperty{Statements: &[]any{
			bodyMatch,
			&waf.CfnWebACL_StatementProperty{NotStatement: &waf.CfnWebACL_NotStatementProperty{Statement: files}},
		}}}
	}
	add(&waf.CfnWebACL_RuleProperty{
		Name:      jsii.String("ManagedBodyRules"),
		Statement: bodyMatch.(*waf.CfnWebACL_StatementProperty),
		Action:    blockOrCount(count, "forbidden", 403, nil),
	})
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
			"too_large": &waf.CfnWebACL_CustomResponseBodyProperty{ContentType: jsii.String("APPLICATION_JSON"), Content: jsii.String(tooLargeBody)},
		},
		AssociationConfig: &waf.CfnWebACL_AssociationConfigProperty{RequestBody: &map[string]any{
			"API_GATEWAY": &waf.CfnWebACL_RequestBodyAssociatedResourceTypeConfigProperty{
				DefaultSizeInspectionLimit: jsii.String(fmt.Sprintf("KB_%d", limit>>10)),
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

// inspectionLimit is decagon.yaml's requestBodyLimit as AWS WAF can inspect it for API Gateway:
// 16, 32, 48 or 64 KiB (topology validates the same steps; rounding up keeps a hand-made
// value safe).
func inspectionLimit(n int) int {
	const step, most = 16 << 10, 64 << 10
	n = (n + step - 1) / step * step
	return min(max(n, step), most)
}

// operationsStatement matches requests to the operations of bodies: the method and the path,
// with or without the stage prefix; nil when bodies is empty.
func operationsStatement(bodies []Body, stage string) *waf.CfnWebACL_StatementProperty {
	byMethod := map[string][]string{}
	var methods []string
	for _, b := range bodies {
		if _, ok := byMethod[b.Method]; !ok {
			methods = append(methods, b.Method)
		}
		byMethod[b.Method] = append(byMethod[b.Method], pathRegex(b.Path))
	}
	var ors []any
	for _, m := range methods {
		ors = append(ors, &waf.CfnWebACL_StatementProperty{AndStatement: &waf.CfnWebACL_AndStatementProperty{Statements: &[]any{
			&waf.CfnWebACL_StatementProperty{ByteMatchStatement: &waf.CfnWebACL_ByteMatchStatementProperty{
				FieldToMatch:         &waf.CfnWebACL_FieldToMatchProperty{Method: map[string]any{}},
				PositionalConstraint: jsii.String("EXACTLY"),
				SearchString:         jsii.String(m),
				TextTransformations:  noTransformation(),
			}},
			&waf.CfnWebACL_StatementProperty{RegexMatchStatement: &waf.CfnWebACL_RegexMatchStatementProperty{
				FieldToMatch:        &waf.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
				RegexString:         jsii.String("^(/" + regexp.QuoteMeta(stage) + ")?(" + strings.Join(byMethod[m], "|") + ")$"),
				TextTransformations: noTransformation(),
			}},
		}}})
	}
	switch len(ors) {
	case 0:
		return nil
	case 1:
		return ors[0].(*waf.CfnWebACL_StatementProperty)
	default:
		return &waf.CfnWebACL_StatementProperty{OrStatement: &waf.CfnWebACL_OrStatementProperty{Statements: &ors}}
	}
}

// pathRegex turns a path template into a regular expression: a parameter is one segment.
func pathRegex(template string) string {
	parts := paramRE.Split(template, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, "[^/]+")
}

func noTransformation() *[]any {
	return &[]any{&waf.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}}
}
