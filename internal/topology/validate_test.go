package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// svc returns a services list with one service "tests" whose body is the minimal rule plus extra
// (indented as service keys).
func svc(extra string) string {
	return "services:\n  - name: tests\n    pathRules: [{priority: 10, paths: [\"/test\", \"/test/*\"]}]\n" + extra
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// paths are the key paths that must be named, in any order; no others may be.
		paths []string
		// msg must appear in the joined error.
		msg string
	}{
		{"empty", "", []string{""}, "empty document"},
		{"no services", "vpcLink: v2\n", []string{"services"}, "at least one service"},
		{"unknown top key", svc("") + "colour: blue\n", []string{"colour"}, "unknown key"},
		{"unknown service key", svc("    helthCheck: {}\n"), []string{"services[0].helthCheck"}, "unknown key"},
		{"unknown nested key", svc("    healthCheck: {intervall: 10s}\n"), []string{"services[0].healthCheck.intervall"}, "unknown key"},
		{"duplicate key", svc("    cpu: 256\n    cpu: 512\n"), []string{"services[0].cpu"}, "duplicate key"},
		{"services not a list", "services: {}\n", []string{"services"}, "must be a list"},
		{"int as string", svc("    cpu: lots\n"), []string{"services[0].cpu"}, "must be an integer"},
		{"int overflow", svc("    cpu: 99999999999999\n"), []string{"services[0].cpu"}, "out of range"},
		{"duration without unit", svc("    healthCheck: {interval: 30}\n"), []string{"services[0].healthCheck.interval"}, "with a unit"},
		{"bad duration", svc("    healthCheck: {interval: 3x}\n"), []string{"services[0].healthCheck.interval"}, "invalid duration"},
		{"vpcLink", svc("") + "vpcLink: v3\n", []string{"vpcLink"}, "must be one of v2, v1"},
		{"stage name", svc("") + "stage: {name: 'Te st'}\n", []string{"stage.name"}, "letters, digits"},
		{"stage rate", svc("") + "stage: {throttling: {rateLimit: 0, burstLimit: 9000}}\n",
			[]string{"stage.throttling.rateLimit", "stage.throttling.burstLimit"}, "between 1 and 5000"},
		{"method key", svc("") + "stage: {throttling: {methods: {'FETCH /x': {rateLimit: 1, burstLimit: 1}}}}\n",
			[]string{`stage.throttling.methods["FETCH /x"]`}, "METHOD /path"},
		{"method limit", svc("") + "stage: {throttling: {methods: {'POST /upload': {rateLimit: 1}}}}\n",
			[]string{`stage.throttling.methods["POST /upload"].burstLimit`}, "between 1 and 5000"},
		{"service name", "services: [{name: Tests, pathRules: [{priority: 1, paths: [/t]}]}]\n", []string{"services[0].name"}, "lower-case"},
		{"duplicate service", svc("") + "  - name: tests\n    pathRules: [{priority: 11, paths: [/other]}]\n",
			[]string{"services[1].name"}, "duplicate service name"},
		{"duplicate priority", svc("") + "  - name: up\n    pathRules: [{priority: 10, paths: [/up]}]\n",
			[]string{"services[1].pathRules[0].priority"}, "duplicate priority 10"},
		{"duplicate pattern", svc("") + "  - name: up\n    pathRules: [{priority: 11, paths: [/test]}]\n",
			[]string{"services[1].pathRules[0].paths[0]"}, "duplicate path pattern"},
		{"port", svc("    port: 80\n"), []string{"services[0].port"}, "non-root"},
		{"no rules", "services: [{name: tests}]\n", []string{"services[0].pathRules"}, "at least one rule"},
		{"pattern slash", "services: [{name: tests, pathRules: [{priority: 1, paths: [test]}]}]\n",
			[]string{"services[0].pathRules[0].paths[0]"}, "start with '/'"},
		{"too many patterns", "services: [{name: tests, pathRules: [{priority: 1, paths: [/a, /b, /c, /d, /e, /f]}]}]\n",
			[]string{"services[0].pathRules[0].paths"}, "1 to 5"},
		{"priority range", "services: [{name: tests, pathRules: [{priority: 0, paths: [/a]}]}]\n",
			[]string{"services[0].pathRules[0].priority"}, "between 1 and 50000"},
		{"health path", svc("    healthCheck: {path: health}\n"), []string{"services[0].healthCheck.path"}, "starting with '/'"},
		{"interval range", svc("    healthCheck: {interval: 1s, timeout: 500ms}\n"),
			[]string{"services[0].healthCheck.interval", "services[0].healthCheck.timeout", "services[0].healthCheck.timeout"}, "between 5s and 5m0s"},
		{"timeout not below interval", svc("    healthCheck: {interval: 10s, timeout: 10s}\n"),
			[]string{"services[0].healthCheck.timeout"}, "less than interval"},
		{"thresholds", svc("    healthCheck: {healthyThreshold: 1, unhealthyThreshold: 11}\n"),
			[]string{"services[0].healthCheck.healthyThreshold", "services[0].healthCheck.unhealthyThreshold"}, "between 2 and 10"},
		{"success codes", svc("    healthCheck: {successCodes: '200-600'}\n"), []string{"services[0].healthCheck.successCodes"}, "between 200 and 499"},
		{"local timing", svc("    healthCheck: {local: {interval: 1s, timeout: 2s, healthyThreshold: 0}}\n"),
			[]string{"services[0].healthCheck.local.timeout", "services[0].healthCheck.local.healthyThreshold"}, "must not exceed interval"},
		{"fargate cpu", svc("    cpu: 300\n"), []string{"services[0].cpu"}, "Fargate CPU"},
		{"fargate memory", svc("    memory: 4096\n"), []string{"services[0].memory"}, "valid Fargate memory for cpu 256"},
		{"fargate memory step", svc("    cpu: 1024\n    memory: 2500\n"), []string{"services[0].memory"}, "valid Fargate memory for cpu 1024"},
		{"memory reservation", svc("    memoryReservation: 512\n"), []string{"services[0].memoryReservation"}, "less than memory"},
		{"desired above max", svc("    desiredCount: 5\n"), []string{"services[0].desiredCount"}, "between minCount (2) and maxCount (4)"},
		{"min above max", svc("    minCount: 5\n    desiredCount: 5\n"), []string{"services[0].minCount", "services[0].desiredCount"}, "must not exceed maxCount"},
		{"deployment", svc("    deployment: {minHealthyPercent: 100, maxPercent: 100}\n"), []string{"services[0].deployment.maxPercent"}, "must exceed minHealthyPercent"},
		{"deployment range", svc("    deployment: {minHealthyPercent: -1, maxPercent: 300}\n"),
			[]string{"services[0].deployment.minHealthyPercent", "services[0].deployment.maxPercent"}, "between 100 and 200"},
		{"metric", svc("    scaling: {metric: Disk}\n"), []string{"services[0].scaling.metric"}, "CPUUtilization"},
		{"scaling thresholds", svc("    scaling: {scaleIn: {threshold: 80}}\n"), []string{"services[0].scaling.scaleIn.threshold"}, "below scaleOut.threshold"},
		{"scaling adjustments", svc("    scaling: {scaleOut: {adjustment: -1}, scaleIn: {adjustment: 1}}\n"),
			[]string{"services[0].scaling.scaleOut.adjustment", "services[0].scaling.scaleIn.adjustment"}, "must be positive"},
		{"scaling period", svc("    scaling: {scaleOut: {period: 90s, evaluationPeriods: 0}}\n"),
			[]string{"services[0].scaling.scaleOut.period", "services[0].scaling.scaleOut.evaluationPeriods"}, "whole number of minutes"},
		{"statistic", svc("    scaling: {scaleOut: {statistic: Median}}\n"), []string{"services[0].scaling.scaleOut.statistic"}, "Average, Minimum, Maximum"},
		{"alarm names", svc("    scaling: {scaleIn: {alarmName: ECS_Fargate_Container_Scaleout_CPU_Utilisation}}\n"),
			[]string{"services[0].scaling.scaleIn.alarmName"}, "must differ"},
		{"waf mode", svc("") + "waf: {mode: drop}\n", []string{"waf.mode"}, "block, count"},
		{"waf levels", svc("") + "waf: {paranoiaLevel: 5, anomalyThreshold: 0}\n", []string{"waf.paranoiaLevel", "waf.anomalyThreshold"}, "between 1 and 4"},
		{"waf body", svc("") + "waf: {requestBodyLimit: 10000}\n", []string{"waf.requestBodyLimit"}, "16384, 32768"},
		{"waf rate limit", svc("") + "waf: {rateLimit: {limit: 9, window: 90s}}\n",
			[]string{"waf.rateLimit.limit", "waf.rateLimit.window"}, "60s, 120s, 300s or 600s"},
		{"waf cidr", svc("") + "waf: {ipSets: {allow: [10.0.0.0/8, nonsense], block: ['2001:db8::1/32']}}\n",
			[]string{"waf.ipSets.allow[1]", "waf.ipSets.block[0]"}, "host bits set: write 2001:db8::/32"},
		{"waf exclusion", svc("") + "waf: {exclusions: [{ids: [], paths: [nope]}, {ids: [-1]}]}\n",
			[]string{"waf.exclusions[0].ids", "waf.exclusions[0].paths[0]", "waf.exclusions[1].ids[0]"}, "at least one rule ID"},
		{"many at once", "vpcLink: x\nservices: [{name: tests, cpu: 1, pathRules: [{priority: 1, paths: [/a]}]}]\nwaf: {mode: y}\n",
			[]string{"vpcLink", "services[0].cpu", "waf.mode"}, "must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted the document: %+v", topo)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			var got []string
			for _, fe := range fieldErrors(err) {
				got = append(got, fe.Path)
			}
			if len(got) == 0 && tt.paths[0] != "" {
				t.Fatalf("error %q holds no *FieldError", err)
			}
			slices.Sort(got)
			want := slices.Clone(tt.paths)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("errors name %q, want %q\n%v", got, want, err)
			}
		})
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse([]byte("services: [\n"))
	if err == nil || !strings.Contains(err.Error(), "parse topology") {
		t.Errorf("Parse(bad yaml) = %v", err)
	}
}

func TestParseAliasBomb(t *testing.T) {
	// Each service merges the one before it twice: expanding all of them is 2^40 steps.
	var b strings.Builder
	b.WriteString("services:\n  - &s0 {name: tests, pathRules: [{priority: 1, paths: [/a]}]}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  - &s%d {<<: [*s%d, *s%d]}\n", i, i-1, i-1)
	}
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many aliases") {
		t.Errorf("Parse(alias bomb) = %v, want the work bound to stop it", err)
	}
}
