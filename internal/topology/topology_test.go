package topology

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repoFile returns the path of a file at the repository root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(self), "..", "..", name)
}

func TestLoadRepositoryFile(t *testing.T) {
	topo, err := Load(repoFile(t, "decagon.yaml"))
	if err != nil {
		t.Fatalf("Load(decagon.yaml): %v", err)
	}
	if topo.Stage.Name != "Test" || topo.VPCLink != VPCLinkV2 {
		t.Errorf("stage %q, vpcLink %q; want Test, v2", topo.Stage.Name, topo.VPCLink)
	}
	if got := topo.Stage.Throttling.Methods["POST /upload"]; got.RateLimit <= 0 {
		t.Errorf(`methods["POST /upload"] = %+v, want an override`, got)
	}
	for _, name := range []string{"tests", "uploads"} {
		s, ok := topo.Service(name)
		if !ok {
			t.Fatalf("service %q missing", name)
		}
		// The seed's values.
		checks := []struct {
			what      string
			got, want any
		}{
			{"port", s.Port, 8080},
			{"cpu", s.CPU, 256},
			{"memory", s.Memory, 512},
			{"memoryReservation", s.MemoryReservation, 100},
			{"desiredCount", s.DesiredCount, 2},
			{"minCount", s.MinCount, 2},
			{"maxCount", s.MaxCount, 4},
			{"minHealthyPercent", s.Deployment.MinHealthyPercent, 50},
			{"maxPercent", s.Deployment.MaxPercent, 100},
			{"healthCheck.path", s.HealthCheck.Path, "/health-check"},
			{"healthCheck.interval", s.HealthCheck.Interval, 30 * time.Second},
			{"healthCheck.timeout", s.HealthCheck.Timeout, 5 * time.Second},
			{"healthCheck.healthyThreshold", s.HealthCheck.HealthyThreshold, 5},
			{"healthCheck.unhealthyThreshold", s.HealthCheck.UnhealthyThreshold, 2},
			{"healthCheck.successCodes", s.HealthCheck.SuccessCodes, "200"},
			{"local interval", s.HealthCheck.ForLocal().Interval, time.Second},
			{"scaleOut.threshold", s.Scaling.ScaleOut.Threshold, 70.0},
			{"scaleOut.period", s.Scaling.ScaleOut.Period, 5 * time.Minute},
			{"scaleOut.evaluationPeriods", s.Scaling.ScaleOut.EvaluationPeriods, 1},
			{"scaleOut.adjustment", s.Scaling.ScaleOut.Adjustment, 1},
			{"scaleIn.threshold", s.Scaling.ScaleIn.Threshold, 50.0},
			{"scaleIn.adjustment", s.Scaling.ScaleIn.Adjustment, -1},
			{"scaleOut.alarmName", s.Scaling.ScaleOut.AlarmName, "ECS_Fargate_Container_Scaleout_CPU_Utilisation"},
			{"scaleIn.alarmName", s.Scaling.ScaleIn.AlarmName, "ECS_Fargate_Container_Scalein_CPU_Utilisation"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s %s = %v, want %v", name, c.what, c.got, c.want)
			}
		}
	}
	if topo.WAF.RateLimit.Window != 5*time.Minute || topo.WAF.RequestBodyLimit != 16384 {
		t.Errorf("waf = %+v", topo.WAF)
	}
}

// minimal is the smallest valid document; everything else takes its default.
const minimal = `
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
`

func TestParseDefaults(t *testing.T) {
	topo, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := topo.Services[0]
	if s.Port != 8080 || s.CPU != 256 || s.Memory != 512 || s.MemoryReservation != 100 ||
		s.DesiredCount != 2 || s.MinCount != 2 || s.MaxCount != 4 ||
		s.HealthCheck.Interval != 30*time.Second || s.HealthCheck.Local.Interval != time.Second ||
		s.Scaling.ScaleOut.Threshold != 70 || s.Scaling.ScaleIn.Threshold != 50 {
		t.Errorf("defaults not filled: %+v", s)
	}
	if topo.Stage.Name != "Test" || topo.VPCLink != "v2" || topo.WAF.Mode != "block" || topo.WAF.ParanoiaLevel != 1 {
		t.Errorf("top-level defaults not filled: %+v", topo)
	}
}

func TestParseAnchorsAndMergeKeys(t *testing.T) {
	doc := `
x-common: &common
  cpu: 512
  memory: 1024
services:
  - <<: *common
    name: tests
    pathRules: [{priority: 10, paths: ["/test"]}]
`
	if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "x-common: unknown key") {
		t.Fatalf("top-level x-common accepted: %v", err)
	}
	doc = `
services:
  - &tests
    name: tests
    cpu: 512
    memory: 1024
    pathRules: [{priority: 10, paths: ["/test"]}]
  - <<: *tests
    name: uploads
    memory: 2048
    pathRules: [{priority: 20, paths: ["/upload"]}]
`
	topo, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if u := topo.Services[1]; u.CPU != 512 || u.Memory != 2048 || u.Name != "uploads" {
		t.Errorf("merged service = cpu %d memory %d name %q; want 512, 2048, uploads", u.CPU, u.Memory, u.Name)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestFieldErrorLine(t *testing.T) {
	doc := minimal + "    cpu: 300\n"
	_, err := Parse([]byte(doc))
	fe := fieldErrors(err)
	if len(fe) != 1 || fe[0].Path != "services[0].cpu" || fe[0].Line != 5 {
		t.Fatalf("errors = %v, want one at services[0].cpu line 5", err)
	}
	if !strings.HasPrefix(fe[0].Error(), "services[0].cpu: ") || !strings.HasSuffix(fe[0].Error(), "(line 5)") {
		t.Errorf("Error() = %q", fe[0].Error())
	}
}

// fieldErrors unpacks a joined error into its *FieldErrors.
func fieldErrors(err error) []*FieldError {
	if err == nil {
		return nil
	}
	var out []*FieldError
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	return out
}

func TestOverrideStageThrottling(t *testing.T) {
	tests := []struct {
		name      string
		rate      float64
		burst     int
		wantRate  float64
		wantBurst int
		wantErr   string
	}{
		{"both kept", 0, 0, 100, 200, ""},
		{"past API Gateway's limits", 1e6, 100000, 1e6, 100000, ""},
		{"rate only", 50, 0, 50, 200, ""},
		{"burst only", 0, 7, 100, 7, ""},
		{"negative rate", -1, 0, 100, 200, "stage.throttling.rateLimit"},
		{"NaN rate", math.NaN(), 0, 100, 200, "stage.throttling.rateLimit"},
		{"infinite rate", math.Inf(1), 0, 100, 200, "stage.throttling.rateLimit"},
		{"negative burst", 10, -1, 100, 200, "stage.throttling.burstLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := Parse([]byte(minimal))
			if err != nil {
				t.Fatal(err)
			}
			err = topo.OverrideStageThrottling(tt.rate, tt.burst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			th := topo.Stage.Throttling
			if th.RateLimit != tt.wantRate || th.BurstLimit != tt.wantBurst {
				t.Fatalf("throttling %g/%d, want %g/%d (an invalid override must change nothing)", th.RateLimit, th.BurstLimit, tt.wantRate, tt.wantBurst)
			}
		})
	}
}
