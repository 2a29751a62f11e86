package topology

import (
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// VPC link modes.
const (
	// VPCLinkV2 links API Gateway straight to the internal ALB (VPC link V2).
	VPCLinkV2 = "v2"
	// VPCLinkV1 is the seed's chain: VPC link V1 → internal NLB → internal ALB.
	VPCLinkV1 = "v1"
)

// Topology is the parsed and validated content of decagon.yaml.
type Topology struct {
	// VPCLink is VPCLinkV2 (default) or VPCLinkV1.
	VPCLink string `yaml:"vpcLink"`
	// Stage is the API Gateway stage.
	Stage Stage `yaml:"stage"`
	// WAF holds the web application firewall settings.
	WAF WAF `yaml:"waf"`
	// Services are the services behind the load balancer, one target group each.
	Services []Service `yaml:"services"`

	// routes are every path rule of every service, in ALB evaluation order; set by Parse.
	routes []route
}

// Stage is the API Gateway stage and its throttling.
type Stage struct {
	// Name is the stage name, part of the invoke URL ("Test").
	Name string `yaml:"name"`
	// Throttling holds the stage-wide limits and per-method overrides.
	Throttling Throttling `yaml:"throttling"`
}

// Throttling is a token bucket for the whole stage plus overrides per method.
type Throttling struct {
	// RateLimit is the steady-state rate in requests per second.
	RateLimit float64 `yaml:"rateLimit"`
	// BurstLimit is the bucket size in requests.
	BurstLimit int `yaml:"burstLimit"`
	// Methods overrides the limits per operation, keyed "METHOD /path" as in api/openapi.yaml
	// (for instance "POST /upload" or "GET /test/{test_id}").
	Methods map[string]Limit `yaml:"methods"`
}

// Limit is a rate and burst pair.
type Limit struct {
	// RateLimit is the steady-state rate in requests per second.
	RateLimit float64 `yaml:"rateLimit"`
	// BurstLimit is the bucket size in requests.
	BurstLimit int `yaml:"burstLimit"`
}

// Service is one service of the decagon binary (`decagon serve <name>`): an ECS service and
// target group in AWS, a set of in-process replicas locally.
type Service struct {
	// Name is the service name, the argument of `decagon serve`.
	Name string `yaml:"name"`
	// Port is the container port the service listens on (8080; non-root images cannot bind
	// ports below 1024).
	Port int `yaml:"port"`
	// PathRules are the load balancer listener rules that forward to this service.
	PathRules []PathRule `yaml:"pathRules"`
	// HealthCheck is the target group health check.
	HealthCheck HealthCheck `yaml:"healthCheck"`
	// CPU is the Fargate task CPU in units (256 = 0.25 vCPU).
	CPU int `yaml:"cpu"`
	// Memory is the Fargate task memory in MiB (the hard limit).
	Memory int `yaml:"memory"`
	// MemoryReservation is the container's soft memory limit in MiB (0 = none).
	MemoryReservation int `yaml:"memoryReservation"`
	// DesiredCount is the number of tasks (local replicas) at start.
	DesiredCount int `yaml:"desiredCount"`
	// MinCount is the lowest task count auto scaling may set.
	MinCount int `yaml:"minCount"`
	// MaxCount is the highest task count auto scaling may set.
	MaxCount int `yaml:"maxCount"`
	// Deployment bounds the number of tasks during a rolling deployment.
	Deployment Deployment `yaml:"deployment"`
	// Scaling holds the step scaling alarms and actions.
	Scaling Scaling `yaml:"scaling"`
	// Uploads holds the uploads service's settings (uploads.go).
	Uploads Uploads `yaml:"uploads"`
}

// PathRule is one ALB listener rule: a priority (lower is evaluated first) and up to five path
// patterns with ALB semantics (case-sensitive, '*' any run of characters, '?' one character).
type PathRule struct {
	// Priority orders the rule among all rules of the listener (1..50000, unique).
	Priority int `yaml:"priority"`
	// Paths are the path patterns; a request whose path matches any of them is forwarded.
	Paths []string `yaml:"paths"`
}

// HealthCheck is a target group health check with ALB semantics. The timing fields are the
// values used in AWS; Local holds the shorter timing the local edge uses.
type HealthCheck struct {
	// Path is the request path of the check ("/health-check").
	Path string `yaml:"path"`
	// Interval is the time between checks of one target.
	Interval time.Duration `yaml:"interval"`
	// Timeout is the time after which a check without a response fails.
	Timeout time.Duration `yaml:"timeout"`
	// HealthyThreshold is the number of consecutive successes that make a target healthy.
	HealthyThreshold int `yaml:"healthyThreshold"`
	// UnhealthyThreshold is the number of consecutive failures that make a target unhealthy.
	UnhealthyThreshold int `yaml:"unhealthyThreshold"`
	// SuccessCodes are the HTTP codes that count as success in ALB's syntax ("200",
	// "200,204", "200-299"), as written: what the ALB is given.
	SuccessCodes string `yaml:"successCodes"`
	// Success is SuccessCodes parsed, set by Parse: what the local load balancer matches
	// responses against. Nothing else parses SuccessCodes.
	Success StatusCodes
	// Local overrides the timing for the local edge.
	Local CheckTiming `yaml:"local"`
}

// CheckTiming is the timing part of a health check.
type CheckTiming struct {
	// Interval is the time between checks of one target.
	Interval time.Duration `yaml:"interval"`
	// Timeout is the time after which a check without a response fails.
	Timeout time.Duration `yaml:"timeout"`
	// HealthyThreshold is the number of consecutive successes that make a target healthy.
	HealthyThreshold int `yaml:"healthyThreshold"`
	// UnhealthyThreshold is the number of consecutive failures that make a target unhealthy.
	UnhealthyThreshold int `yaml:"unhealthyThreshold"`
}

// ForLocal returns the health check with the local timing in place of the AWS timing.
func (h HealthCheck) ForLocal() HealthCheck {
	h.Interval = h.Local.Interval
	h.Timeout = h.Local.Timeout
	h.HealthyThreshold = h.Local.HealthyThreshold
	h.UnhealthyThreshold = h.Local.UnhealthyThreshold
	return h
}

// Deployment is the ECS rolling deployment configuration.
type Deployment struct {
	// MinHealthyPercent is the lower bound of running tasks, in percent of the desired count.
	MinHealthyPercent int `yaml:"minHealthyPercent"`
	// MaxPercent is the upper bound of running tasks, in percent of the desired count.
	MaxPercent int `yaml:"maxPercent"`
}

// Scaling is step scaling on one ECS service metric.
type Scaling struct {
	// Metric is the ECS service metric: "CPUUtilization" or "MemoryUtilization".
	Metric string `yaml:"metric"`
	// Cooldown is the time after a scaling activity before another may start.
	Cooldown time.Duration `yaml:"cooldown"`
	// ScaleOut adds tasks when the metric is at or above its threshold.
	ScaleOut Step `yaml:"scaleOut"`
	// ScaleIn removes tasks when the metric is below its threshold.
	ScaleIn Step `yaml:"scaleIn"`
}

// Step is one CloudWatch alarm and the scaling adjustment it triggers.
type Step struct {
	// AlarmName is the alarm's name; the infrastructure prefixes it per stack and service.
	AlarmName string `yaml:"alarmName"`
	// Statistic is "Average", "Minimum" or "Maximum" of the metric over one period.
	Statistic string `yaml:"statistic"`
	// Threshold is the metric value, in percent.
	Threshold float64 `yaml:"threshold"`
	// Period is the length of one evaluation period.
	Period time.Duration `yaml:"period"`
	// EvaluationPeriods is the number of consecutive periods that must breach.
	EvaluationPeriods int `yaml:"evaluationPeriods"`
	// Adjustment is the change in task count (positive for ScaleOut, negative for ScaleIn).
	Adjustment int `yaml:"adjustment"`
}

// Load reads, decodes and validates the topology file at path.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load topology: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load topology %s: %w", path, err)
	}
	return t, nil
}

// Parse decodes and validates a topology document. Unknown keys are errors; missing keys take
// their defaults. The error, if any, joins one *FieldError per problem found, each naming its key.
func Parse(data []byte) (*Topology, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse topology: %w", err)
	}
	t := &Topology{}
	t.setDefaults()
	d := newDecoder()
	if len(root.Content) == 0 {
		return nil, &FieldError{Msg: "empty document"}
	}
	d.decode("", root.Content[0], t)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	v := &validator{lines: d.lines}
	v.topology(t)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	t.provision()
	return t, nil
}

// provision derives the typed forms of validated settings (caddy's decode → validate →
// provision, with validation first so that provisioning cannot fail): the success codes each
// health check matches, and the listener rules in evaluation order.
func (t *Topology) provision() {
	for i := range t.Services {
		hc := &t.Services[i].HealthCheck
		hc.Success, _ = ParseStatusCodes(hc.SuccessCodes) // validated: cannot fail
	}
	t.routes = buildRoutes(t.Services)
}

// Service returns the service with the given name.
func (t *Topology) Service(name string) (*Service, bool) {
	for i := range t.Services {
		if t.Services[i].Name == name {
			return &t.Services[i], true
		}
	}
	return nil, false
}

// FieldError is one problem in a topology document.
type FieldError struct {
	// Path is the key path, for instance "services[1].healthCheck.interval" (empty for the
	// document itself).
	Path string
	// Line is the line of the key in the document, 0 when unknown (a default value).
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error returns "path: message (line N)".
func (e *FieldError) Error() string {
	s := e.Msg
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	return s
}
