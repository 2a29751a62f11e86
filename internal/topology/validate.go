package topology

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// validator collects every problem of a decoded topology, each naming its key path.
type validator struct {
	lines map[string]int
	errs  []error
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Line: v.lines[path], Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) intRange(path string, got, lo, hi int) {
	if got < lo || got > hi {
		v.errf(path, "must be between %d and %d, got %d", lo, hi, got)
	}
}

func (v *validator) durRange(path string, got, lo, hi time.Duration) {
	if got < lo || got > hi {
		v.errf(path, "must be between %s and %s, got %s", lo, hi, got)
	}
}

func (v *validator) oneOf(path, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.errf(path, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

var (
	stageNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	serviceNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	alarmNameRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,180}$`)
	// ALB path patterns: up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?.
	pathPatternRE = regexp.MustCompile(`^/[A-Za-z0-9_\-.$/~"'@:+&*?]{0,127}$`)
	httpMethods   = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
)

func (v *validator) topology(t *Topology) {
	v.oneOf("vpcLink", t.VPCLink, VPCLinkV2, VPCLinkV1)
	v.stage(t.Stage)
	v.waf(t.WAF)
	if len(t.Services) == 0 {
		v.errf("services", "must list at least one service")
	}
	names := map[string]int{}
	priorities := map[int]string{}
	patterns := map[string]string{}
	for i, s := range t.Services {
		p := fmt.Sprintf("services[%d]", i)
		v.service(p, s)
		if j, dup := names[s.Name]; dup {
			v.errf(p+".name", "duplicate service name %q (also services[%d])", s.Name, j)
		}
		names[s.Name] = i
		for r, rule := range s.PathRules {
			rp := fmt.Sprintf("%s.pathRules[%d]", p, r)
			if other, dup := priorities[rule.Priority]; dup {
				v.errf(rp+".priority", "duplicate priority %d (also %s)", rule.Priority, other)
			}
			priorities[rule.Priority] = rp
			for k, pat := range rule.Paths {
				pp := fmt.Sprintf("%s.paths[%d]", rp, k)
				if other, dup := patterns[pat]; dup {
					v.errf(pp, "duplicate path pattern %q (also %s)", pat, other)
				}
				patterns[pat] = pp
			}
		}
	}
}

func (v *validator) stage(s Stage) {
	if !stageNameRE.MatchString(s.Name) {
		v.errf("stage.name", "must be 1 to 128 letters, digits, '-' or '_', got %q", s.Name)
	}
	v.limit("stage.throttling", Limit{RateLimit: s.Throttling.RateLimit, BurstLimit: s.Throttling.BurstLimit})
	for _, key := range slices.Sorted(maps.Keys(s.Throttling.Methods)) {
		p := fmt.Sprintf("stage.throttling.methods[%q]", key)
		method, path, ok := strings.Cut(key, " ")
		if !ok || !slices.Contains(httpMethods, method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
			v.errf(p, "key must be \"METHOD /path\" with METHOD one of %s", strings.Join(httpMethods, ", "))
		}
		v.limit(p, s.Throttling.Methods[key])
	}
}

// limit checks a rate/burst pair against API Gateway's account-level bounds.
func (v *validator) limit(p string, l Limit) {
	if l.RateLimit <= 0 || l.RateLimit > 10000 {
		v.errf(p+".rateLimit", "must be more than 0 and at most 10000 requests per second, got %g", l.RateLimit)
	}
	v.intRange(p+".burstLimit", l.BurstLimit, 1, 5000)
}

func (v *validator) service(p string, s Service) {
	if !serviceNameRE.MatchString(s.Name) {
		v.errf(p+".name", "must be 1 to 20 lower-case letters, digits or '-', starting with a letter, got %q", s.Name)
	}
	if s.Port < 1024 || s.Port > 65535 {
		v.errf(p+".port", "must be between 1024 and 65535 (the image runs as non-root and cannot bind lower ports), got %d", s.Port)
	}
	if len(s.PathRules) == 0 {
		v.errf(p+".pathRules", "must list at least one rule")
	}
	for i, r := range s.PathRules {
		rp := fmt.Sprintf("%s.pathRules[%d]", p, i)
		v.intRange(rp+".priority", r.Priority, 1, 50000)
		if len(r.Paths) == 0 || len(r.Paths) > 5 {
			v.errf(rp+".paths", "must list 1 to 5 path patterns, got %d", len(r.Paths))
		}
		for k, pat := range r.Paths {
			v.pattern(fmt.Sprintf("%s.paths[%d]", rp, k), pat)
		}
	}
	v.healthCheck(p+".healthCheck", s.HealthCheck)
	v.fargate(p, s.CPU, s.Memory)
	if s.MemoryReservation != 0 && (s.MemoryReservation < 6 || s.MemoryReservation >= s.Memory) {
		v.errf(p+".memoryReservation", "must be 0 (none) or between 6 MiB and less than memory (%d), got %d", s.Memory, s.MemoryReservation)
	}
	v.intRange(p+".minCount", s.MinCount, 0, 1000)
	v.intRange(p+".maxCount", s.MaxCount, 1, 1000)
	if s.DesiredCount < s.MinCount || s.DesiredCount > s.MaxCount {
		v.errf(p+".desiredCount", "must be between minCount (%d) and maxCount (%d), got %d", s.MinCount, s.MaxCount, s.DesiredCount)
	}
	if s.MinCount > s.MaxCount {
		v.errf(p+".minCount", "must not exceed maxCount (%d), got %d", s.MaxCount, s.MinCount)
	}
	v.intRange(p+".deployment.minHealthyPercent", s.Deployment.MinHealthyPercent, 0, 100)
	v.intRange(p+".deployment.maxPercent", s.Deployment.MaxPercent, 100, 200)
	if s.Deployment.MaxPercent <= s.Deployment.MinHealthyPercent {
		v.errf(p+".deployment.maxPercent", "must exceed minHealthyPercent (%d) or no task can be replaced, got %d", s.Deployment.MinHealthyPercent, s.Deployment.MaxPercent)
	}
	v.scaling(p+".scaling", s.Scaling)
	v.uploads(p+".uploads", s.Uploads)
}

func (v *validator) pattern(p, pat string) {
	if !pathPatternRE.MatchString(pat) {
		v.errf(p, "must be an ALB path pattern: start with '/', at most 128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?, got %q", pat)
	}
}

func (v *validator) healthCheck(p string, h HealthCheck) {
	if !strings.HasPrefix(h.Path, "/") || len(h.Path) > 1024 || strings.ContainsAny(h.Path, " ?#") {
		v.errf(p+".path", "must be a path starting with '/' (no query), at most 1024 characters, got %q", h.Path)
	}
	// ALB's bounds.
	v.durRange(p+".interval", h.Interval, 5*time.Second, 300*time.Second)
	v.durRange(p+".timeout", h.Timeout, 2*time.Second, 120*time.Second)
	if h.Interval%time.Second != 0 {
		v.errf(p+".interval", "must be whole seconds, got %s", h.Interval)
	}
	if h.Timeout%time.Second != 0 {
		v.errf(p+".timeout", "must be whole seconds, got %s", h.Timeout)
	}
	if h.Timeout >= h.Interval {
		v.errf(p+".timeout", "must be less than interval (%s), got %s", h.Interval, h.Timeout)
	}
	v.intRange(p+".healthyThreshold", h.HealthyThreshold, 2, 10)
	v.intRange(p+".unhealthyThreshold", h.UnhealthyThreshold, 2, 10)
	if _, err := ParseStatusCodes(h.SuccessCodes); err != nil {
		v.errf(p+".successCodes", "%v", err)
	}
	// The local edge: shorter, but still sane.
	l := p + ".local"
	v.durRange(l+".interval", h.Local.Interval, 100*time.Millisecond, 300*time.Second)
	v.durRange(l+".timeout", h.Local.Timeout, 50*time.Millisecond, 120*time.Second)
	if h.Local.Timeout > h.Local.Interval {
		v.errf(l+".timeout", "must not exceed interval (%s), got %s", h.Local.Interval, h.Local.Timeout)
	}
	v.intRange(l+".healthyThreshold", h.Local.HealthyThreshold, 1, 10)
	v.intRange(l+".unhealthyThreshold", h.Local.UnhealthyThreshold, 1, 10)
}

// fargateMemory lists, per Fargate CPU value, the smallest and largest memory (MiB) and the step.
var fargateMemory = map[int][3]int{
	256:   {512, 2048, 0}, // 512, 1024 or 2048
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

func (v *validator) fargate(p string, cpu, memory int) {
	m, ok := fargateMemory[cpu]
	if !ok {
		v.errf(p+".cpu", "must be a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384), got %d", cpu)
		return
	}
	valid := memory >= m[0] && memory <= m[1]
	if m[2] == 0 {
		valid = memory == 512 || memory == 1024 || memory == 2048
	} else if valid {
		valid = (memory-m[0])%m[2] == 0
	}
	if !valid {
		v.errf(p+".memory", "is not a valid Fargate memory for cpu %d (%d..%d MiB), got %d", cpu, m[0], m[1], memory)
	}
}

func (v *validator) scaling(p string, s Scaling) {
	v.oneOf(p+".metric", s.Metric, "CPUUtilization", "MemoryUtilization")
	v.durRange(p+".cooldown", s.Cooldown, 0, time.Hour)
	v.step(p+".scaleOut", s.ScaleOut)
	v.step(p+".scaleIn", s.ScaleIn)
	if s.ScaleOut.Adjustment <= 0 {
		v.errf(p+".scaleOut.adjustment", "must be positive, got %d", s.ScaleOut.Adjustment)
	}
	if s.ScaleIn.Adjustment >= 0 {
		v.errf(p+".scaleIn.adjustment", "must be negative, got %d", s.ScaleIn.Adjustment)
	}
	if s.ScaleIn.Threshold >= s.ScaleOut.Threshold {
		v.errf(p+".scaleIn.threshold", "must be below scaleOut.threshold (%g), got %g", s.ScaleOut.Threshold, s.ScaleIn.Threshold)
	}
	if s.ScaleIn.AlarmName == s.ScaleOut.AlarmName {
		v.errf(p+".scaleIn.alarmName", "must differ from scaleOut.alarmName")
	}
}

func (v *validator) step(p string, s Step) {
	if !alarmNameRE.MatchString(s.AlarmName) {
		v.errf(p+".alarmName", "must be 1 to 180 letters, digits, '_', '-' or '.', got %q", s.AlarmName)
	}
	v.oneOf(p+".statistic", s.Statistic, "Average", "Minimum", "Maximum")
	if s.Threshold <= 0 || s.Threshold > 100 {
		v.errf(p+".threshold", "must be a percentage above 0 and at most 100, got %g", s.Threshold)
	}
	if s.Period < time.Minute || s.Period > 24*time.Hour || s.Period%time.Minute != 0 {
		v.errf(p+".period", "must be a whole number of minutes between 1m and 24h, got %s", s.Period)
	}
	v.intRange(p+".evaluationPeriods", s.EvaluationPeriods, 1, 100)
	v.intRange(p+".adjustment", abs(s.Adjustment), 1, 100)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
