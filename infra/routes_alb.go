package main

import (
	"fmt"
	"regexp"

	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// stagedRulePriority is added to a path rule's priority for its stage-prefixed twin.
//
// API Gateway includes the stage in the path it sends to a private integration: a call to
// stage Test at /test/abc reaches the ALB as /Test/test/abc ("Private integrations for REST
// APIs in API Gateway", Considerations). The services route the document's paths, without a
// stage. So every path rule of decagon.yaml gets a twin matching the prefixed paths that
// rewrites the URL back (an ALB url-rewrite transform) before forwarding to the same target
// group: the services see /test/abc whether or not the prefix arrives.
const stagedRulePriority = 10000

// addListenerRules adds the listener rules of one service: each path rule as decagon.yaml has
// it, and its stage-prefixed twin.
func addListenerRules(scope constructs.Construct, listener elb.ApplicationListener, tg elb.ApplicationTargetGroup, rules []topology.PathRule, stage string) {
	forward := elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{tg}, nil)
	for i, r := range rules {
		elb.NewApplicationListenerRule(scope, jsii.String(fmt.Sprintf("Rule%d", i)), &elb.ApplicationListenerRuleProps{
			Listener:   listener,
			Priority:   jsii.Number(float64(r.Priority)),
			Conditions: &[]elb.ListenerCondition{elb.ListenerCondition_PathPatterns(jsii.Strings(r.Paths...))},
			Action:     forward,
		})
		staged := make([]string, len(r.Paths))
		for j, p := range r.Paths {
			staged[j] = "/" + stage + p
		}
		twin := elb.NewApplicationListenerRule(scope, jsii.String(fmt.Sprintf("Rule%dStaged", i)), &elb.ApplicationListenerRuleProps{
			Listener:   listener,
			Priority:   jsii.Number(float64(r.Priority + stagedRulePriority)),
			Conditions: &[]elb.ListenerCondition{elb.ListenerCondition_PathPatterns(jsii.Strings(staged...))},
			Action:     forward,
		})
		cfn := twin.Node().DefaultChild().(elb.CfnListenerRule)
		cfn.SetTransforms(&[]any{&elb.CfnListenerRule_TransformProperty{
			Type: jsii.String("url-rewrite"),
			UrlRewriteConfig: &elb.CfnListenerRule_RewriteConfigObjectProperty{Rewrites: &[]any{
				&elb.CfnListenerRule_RewriteConfigProperty{Regex: jsii.String(stageRewriteRegex(stage)), Replace: jsii.String("$1")},
			}},
		}})
	}
}

// stageRewriteRegex matches a path under the stage and captures it without the stage.
func stageRewriteRegex(stage string) string {
	return "^/" + regexp.QuoteMeta(stage) + "(/.*)$"
}
