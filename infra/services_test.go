package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// serviceIDs finds the logical IDs of one service's resources ("Service-tests" → "Servicetests").
func serviceResources(s *synthesized, name, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, p := range s.resources(typ) {
		if strings.HasPrefix(id, "Service"+name) {
			out[id] = p
		}
	}
	return out
}

func oneOf(t *testing.T, m map[string]map[string]any, what string) (string, map[string]any) {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%d %s, want 1", len(m), what)
	}
	for id, p := range m {
		return id, p
	}
	return "", nil
}

// The seed's task definition, service and auto scaling, per service of decagon.yaml.
func TestServices(t *testing.T) {
	for _, tc := range []struct {
		config   string
		services []string
	}{
		{"v2-dev", []string{"tests", "uploads"}},
		{"v1-dev", []string{"tests", "uploads"}},
		{"v2-prod", []string{"tests", "uploads"}},
		{"three", []string{"tests", "uploads", "reports"}},
	} {
		s := synth(t, tc.config)
		count(t, s, "AWS::ECS::Service", len(tc.services))
		count(t, s, "AWS::ECS::TaskDefinition", len(tc.services))
		count(t, s, "AWS::ElasticLoadBalancingV2::TargetGroup", len(tc.services)+map[bool]int{true: 1}[tc.config == "v1-dev"])
		count(t, s, "AWS::ApplicationAutoScaling::ScalableTarget", len(tc.services))
		count(t, s, "AWS::ApplicationAutoScaling::ScalingPolicy", 2*len(tc.services))
		for _, name := range tc.services {
			t.Run(tc.config+"/"+name, func(t *testing.T) { checkService(t, s, name) })
		}
	}
}

func checkService(t *testing.T, s *synthesized, name string) {
	_, task := oneOf(t, serviceResources(s, name, "AWS::ECS::TaskDefinition"), "task definitions")
	container := get(task, "ContainerDefinitions", 0).(map[string]any)
	svcID, svc := oneOf(t, serviceResources(s, name, "AWS::ECS::Service"), "services")
	tgID, tg := oneOf(t, serviceResources(s, name, "AWS::ElasticLoadBalancingV2::TargetGroup"), "target groups")
	sgID, _ := oneOf(t, serviceResources(s, name, "AWS::EC2::SecurityGroup"), "security groups")
	_, target := oneOf(t, serviceResources(s, name, "AWS::ApplicationAutoScaling::ScalableTarget"), "scalable targets")
	rows := []struct {
		what string
		got  any
		want any
	}{
		// Task definition: seed step "Create Task Definitions".
		{"task cpu (0.25 vCPU)", task["Cpu"], "256"},
		{"task memory (0.5 GB)", task["Memory"], "512"},
		{"network mode", task["NetworkMode"], "awsvpc"},
		{"Fargate", get(task, "RequiresCompatibilities", 0), "FARGATE"},
		{"soft limit 100 MiB", container["MemoryReservation"], 100.0},
		{"container port", get(container, "PortMappings", 0, "ContainerPort"), 8080.0},
		{"command", container["Command"], []any{"serve", name}},
		{"logs to CloudWatch", get(container, "LogConfiguration", "LogDriver"), "awslogs"},
		{"read-only root", container["ReadonlyRootFilesystem"], true},
		{"no ECS secret (the password is read per connection, see TestDatabaseSecret)", container["Secrets"], nil},
		// Service: seed step "Create Service".
		{"desired 2", svc["DesiredCount"], 2.0},
		{"minimum healthy 50 %", get(svc, "DeploymentConfiguration", "MinimumHealthyPercent"), 50.0},
		{"maximum 100 %", get(svc, "DeploymentConfiguration", "MaximumPercent"), 100.0},
		{"circuit breaker", get(svc, "DeploymentConfiguration", "DeploymentCircuitBreaker"), map[string]any{"Enable": true, "Rollback": true}},
		{"capacity providers, not a launch type", svc["LaunchType"], nil},
		{"deployment alarms roll back", get(svc, "DeploymentConfiguration", "Alarms", "Rollback"), true},
		{"deployment alarms on", get(svc, "DeploymentConfiguration", "Alarms", "Enable"), true},
		{"no public IP", get(svc, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp"), "DISABLED"},
		{"own security group", get(svc, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"), []any{getAtt(sgID, "GroupId")}},
		{"registered with its target group", get(svc, "LoadBalancers", 0, "TargetGroupArn"), ref(tgID)},
		// Target group: seed step "Create Target Group".
		{"target type IP", tg["TargetType"], "ip"},
		{"health check path", tg["HealthCheckPath"], "/health-check"},
		{"success code", get(tg, "Matcher", "HttpCode"), "200"},
		{"health check interval (ALB default)", tg["HealthCheckIntervalSeconds"], 30.0},
		{"health check timeout", tg["HealthCheckTimeoutSeconds"], 5.0},
		{"healthy threshold", tg["HealthyThresholdCount"], 5.0},
		{"unhealthy threshold", tg["UnhealthyThresholdCount"], 2.0},
		// Auto scaling: seed step "Service Auto Scaling".
		{"min 2", target["MinCapacity"], 2.0},
		{"max 4", target["MaxCapacity"], 4.0},
		{"service-linked role", strings.Contains(js(target["RoleARN"]), "AWSServiceRoleForApplicationAutoScaling_ECSService"), true},
	}
	for _, r := range rows {
		if !eq(r.got, r.want) {
			t.Errorf("%s: got %s, want %s", r.what, js(r.got), js(r.want))
		}
	}
	// The image by digest, never a tag.
	if img := js(container["Image"]); !strings.Contains(img, "@"+testDigest) || strings.Contains(img, ":latest") {
		t.Errorf("image %s, want the repository @%s", img, testDigest)
	}
	// Deployment alarms: target 5XX and unhealthy targets of this service's target group.
	names := map[string]bool{}
	for _, n := range get(svc, "DeploymentConfiguration", "Alarms", "AlarmNames").([]any) {
		names[n.(string)] = true
	}
	for _, want := range []struct{ suffix, metric string }{{"-" + name + "-Target5xx", "HTTPCode_Target_5XX_Count"}, {"-" + name + "-UnhealthyHosts", "UnHealthyHostCount"}} {
		found := false
		for _, a := range serviceResources(s, name, "AWS::CloudWatch::Alarm") {
			n, _ := a["AlarmName"].(string)
			if strings.HasSuffix(n, want.suffix) && a["MetricName"] == want.metric && names[n] && strings.Contains(js(a["Dimensions"]), tgID) {
				found = true
				if !strings.Contains(js(a["AlarmActions"]), "MonitoringAlarms") {
					t.Errorf("deployment alarm %s does not notify the topic", n)
				}
			}
		}
		if !found {
			t.Errorf("no deployment alarm *%s on %s of %s among %v", want.suffix, want.metric, tgID, names)
		}
	}
	// Capacity providers per environment: prod on demand only; dev the first task on demand.
	strategy := js(svc["CapacityProviderStrategy"])
	if prod := s.stacks.App.Config.Prod(); prod != !strings.Contains(strategy, "FARGATE_SPOT") || !strings.Contains(strategy, `"CapacityProvider":"FARGATE"`) {
		t.Errorf("capacity providers %s (prod %v)", strategy, prod)
	}
	env := js(container["Environment"])
	for _, key := range []string{"DECAGON_ADDR", "DECAGON_DATABASE_URL", "DECAGON_AUTH_ISSUER", "DECAGON_AUTH_CLIENT_ID"} {
		if !strings.Contains(env, `"`+key+`"`) {
			t.Errorf("environment lacks %s: %s", key, env)
		}
	}
	// The services accept the people's and the machine client's tokens, as the authorizer does.
	if ids := js(envValue(container, "DECAGON_AUTH_CLIENT_ID")); strings.Count(ids, `"Ref":`) != 2 || !strings.Contains(ids, "Fn::Join") {
		t.Errorf("DECAGON_AUTH_CLIENT_ID names not both app clients: %s", ids)
	}
	if strings.Contains(strings.ToLower(env), "password") || strings.Contains(env, "resolve:secretsmanager") {
		t.Errorf("environment holds a password: %s", env)
	}
	if capped := strings.Contains(env, `"DECAGON_MAX_PRESIGNED_SIZE"`); capped != (name == "uploads") {
		t.Errorf("DECAGON_MAX_PRESIGNED_SIZE present = %v for %s", capped, name)
	}
	if blob := strings.Contains(env, "DECAGON_BLOB_URL"); blob != (name == "uploads") {
		t.Errorf("DECAGON_BLOB_URL present = %v for %s", blob, name)
	}
	// Private subnets.
	for _, sn := range get(svc, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets").([]any) {
		if !strings.Contains(get(sn, "Ref").(string), "private") {
			t.Errorf("service subnet %v is not private", sn)
		}
	}
	// Only the ALB reaches the tasks, on the container port.
	var ingress []string
	for _, in := range s.resources("AWS::EC2::SecurityGroupIngress") {
		if eq(in["GroupId"], getAtt(sgID, "GroupId")) {
			ingress = append(ingress, fmt.Sprintf("%v:%v", get(in, "SourceSecurityGroupId", "Fn::GetAtt", 0), in["FromPort"]))
		}
	}
	if len(ingress) != 1 || !strings.HasPrefix(ingress[0], "LoadBalancerSecurityGroup") || !strings.HasSuffix(ingress[0], ":8080") {
		t.Errorf("task ingress = %v, want the ALB on 8080 only", ingress)
	}
	checkRules(t, s, name, tgID)
	checkScaling(t, s, name, svcID)
}

// checkRules: seed step "Insert a rule ... Path is /test1 ... Forward to ecs-fargate-test1-tg".
func checkRules(t *testing.T, s *synthesized, name, tgID string) {
	spec, ok := s.stacks.App.Config.Topology.Service(name)
	if !ok {
		t.Fatalf("no service %s in the topology", name)
	}
	rules := serviceResources(s, name, "AWS::ElasticLoadBalancingV2::ListenerRule")
	if len(rules) != 2*len(spec.PathRules) {
		t.Fatalf("%d listener rules, want %d (each path rule and its stage-prefixed twin)", len(rules), 2*len(spec.PathRules))
	}
	stage := s.stacks.App.Config.Topology.Stage.Name
	for _, want := range spec.PathRules {
		found := false
		for _, r := range rules {
			if r["Priority"] == float64(want.Priority) &&
				eq(get(r, "Conditions", 0, "PathPatternConfig", "Values"), want.Paths) &&
				eq(get(r, "Actions", 0, "TargetGroupArn"), ref(tgID)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no rule priority %d paths %v → %s among %s", want.Priority, want.Paths, tgID, js(rules))
		}
		// AWS-FACTS item 1: the stage prefix reaches the ALB; the twin matches it and rewrites
		// the path back to the document's before the service sees it.
		var staged []any
		for _, p := range want.Paths {
			staged = append(staged, "/"+stage+p)
		}
		found = false
		for _, r := range rules {
			if r["Priority"] == float64(want.Priority+stagedRulePriority) &&
				eq(get(r, "Conditions", 0, "PathPatternConfig", "Values"), staged) &&
				eq(get(r, "Actions", 0, "TargetGroupArn"), ref(tgID)) &&
				get(r, "Transforms", 0, "Type") == "url-rewrite" &&
				get(r, "Transforms", 0, "UrlRewriteConfig", "Rewrites", 0, "Regex") == "^/"+stage+"(/.*)$" &&
				get(r, "Transforms", 0, "UrlRewriteConfig", "Rewrites", 0, "Replace") == "$1" {
				found = true
			}
		}
		if !found {
			t.Errorf("no stage-prefixed rule %v with a url-rewrite → %s among %s", staged, tgID, js(rules))
		}
	}
}

// The rewrite regex takes exactly the stage off: what the twin rule's transform does to a path.
func TestStageRewriteRegex(t *testing.T) {
	re := regexp.MustCompile(stageRewriteRegex("Test"))
	for in, want := range map[string]string{
		"/Test/test":              "/test",
		"/Test/test/abc":          "/test/abc",
		"/Test/upload/x/complete": "/upload/x/complete",
		"/Testing/test":           "",
		"/test":                   "",
		"/Test":                   "",
	} {
		got := ""
		if m := re.FindStringSubmatch(in); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s → %q, want %q", in, got, want)
		}
	}
}

// checkScaling: "Minimum of CPUUtilization > 70 for 1 consecutive periods of 5 mins: add 1",
// "< 50 ...: remove 1", with the seed's alarm names prefixed per service.
func checkScaling(t *testing.T, s *synthesized, name, svcID string) {
	alarms := serviceResources(s, name, "AWS::CloudWatch::Alarm")
	policies := serviceResources(s, name, "AWS::ApplicationAutoScaling::ScalingPolicy")
	for _, tc := range []struct {
		seedName  string
		cmp       string
		threshold float64
		step      map[string]any
	}{
		{"ECS_Fargate_Container_Scaleout_CPU_Utilisation", "GreaterThanThreshold", 70, map[string]any{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1.0}},
		{"ECS_Fargate_Container_Scalein_CPU_Utilisation", "LessThanThreshold", 50, map[string]any{"MetricIntervalUpperBound": 0.0, "ScalingAdjustment": -1.0}},
	} {
		var alarm map[string]any
		for _, a := range alarms {
			if n, _ := a["AlarmName"].(string); strings.HasSuffix(n, "-"+name+"-"+tc.seedName) {
				alarm = a
			}
		}
		if alarm == nil {
			t.Errorf("no alarm named *-%s-%s", name, tc.seedName)
			continue
		}
		rows := []struct {
			key  string
			want any
		}{
			{"MetricName", "CPUUtilization"}, {"Namespace", "AWS/ECS"}, {"Statistic", "Minimum"},
			{"Period", 300.0}, {"EvaluationPeriods", 1.0}, {"Threshold", tc.threshold}, {"ComparisonOperator", tc.cmp},
		}
		for _, r := range rows {
			if !eq(alarm[r.key], r.want) {
				t.Errorf("%s.%s = %v, want %v", tc.seedName, r.key, js(alarm[r.key]), r.want)
			}
		}
		if !strings.Contains(js(alarm["Dimensions"]), svcID) {
			t.Errorf("%s does not watch service %s: %s", tc.seedName, svcID, js(alarm["Dimensions"]))
		}
		actions := alarm["AlarmActions"].([]any)
		if len(actions) != 1 {
			t.Fatalf("%s actions = %v", tc.seedName, actions)
		}
		policy := policies[get(actions[0], "Ref").(string)]
		cfg := get(policy, "StepScalingPolicyConfiguration")
		if policy["PolicyType"] != "StepScaling" || get(cfg, "AdjustmentType") != "ChangeInCapacity" ||
			!eq(get(cfg, "StepAdjustments"), []any{tc.step}) || get(cfg, "MetricAggregationType") != "Minimum" {
			t.Errorf("%s triggers %s, want step %v", tc.seedName, js(policy), tc.step)
		}
	}
}

// Adding a service to decagon.yaml adds its service, target group, rule, scaling and alarms.
func TestThirdService(t *testing.T) {
	s := synth(t, "three")
	var names []string
	for _, svc := range s.stacks.App.Services {
		names = append(names, svc.Spec.Name)
	}
	if !slices.Equal(names, []string{"tests", "uploads", "reports"}) {
		t.Fatalf("services = %v", names)
	}
	checkService(t, s, "reports") // task, service, TG, rule, scaling, alarms
	n := 0
	for _, a := range serviceResources(s, "reports", "AWS::CloudWatch::Alarm") {
		if strings.Contains(a["AlarmName"].(string)+"", "reports") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d named alarms for reports (2 scaling, 2 deployment), want 4", n)
	}
	mon := 0
	for id := range s.resources("AWS::CloudWatch::Alarm") {
		if strings.HasPrefix(id, "MonitoringSvcreports") {
			mon++
		}
	}
	if mon != 2 {
		t.Errorf("%d monitoring alarms for reports (CPU, memory; 5XX and unhealthy hosts are its deployment alarms), want 2", mon)
	}
}

// envValue returns the Value of the container environment variable name, or nil.
func envValue(container map[string]any, name string) any {
	list, _ := container["Environment"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["Name"] == name {
			return m["Value"]
		}
	}
	return nil
}
