package ecs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/scaling"
)

// TestScalingWithRealCPU runs the tests service's scaling policy of decagon.yaml at speed-up
// 120 (periods and cooldown of 2.5 s) on tasks whose CPU is read from /proc: load on → 3 → 4
// (max), load off → 3 → 2 (min). The thresholds are lowered to 20 % and 10 % of the task's
// vCPU so that the test holds on a shared, busy machine where a task may not get all of its
// quarter CPU; the thresholds themselves are tested in internal/scaling.
func TestScalingWithRealCPU(t *testing.T) {
	burn := filepath.Join(t.TempDir(), "burn")
	cfg := testConfig(t, newGroup(t), testBurnEnv+"="+burn)
	sc := scaling.ConfigFor(testService(t), 120)
	sc.Scaling.ScaleOut.Threshold, sc.Scaling.ScaleIn.Threshold = 20, 10
	cfg.Scaling = &sc
	s := run(t, cfg)
	waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)

	if err := os.WriteFile(burn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st := waitFor(t, s, 30*time.Second, "scaled out to 4", func(st Status) bool { return st.Desired == 4 && Steady(st) })
	out := time.Since(start)
	if err := os.Remove(burn); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	st = waitFor(t, s, 30*time.Second, "scaled in to 2", func(st Status) bool { return st.Desired == 2 && Steady(st) })
	in := time.Since(start)

	var got []string
	for _, e := range st.Events {
		if e.Kind == EventScaleOut || e.Kind == EventScaleIn {
			got = append([]string{string(e.Kind)}, got...) // oldest first
		}
	}
	// In order, with room for an extra round trip: on a loaded machine a task starved of CPU
	// can fail its health checks, be replaced and read idle for a period (the exact sequence on
	// a fake clock is internal/scaling's test).
	want := []string{"scale-out", "scale-out", "scale-in", "scale-in"}
	if !subsequence(want, got) {
		t.Errorf("scaling events %v, want %v in this order; events %+v", got, want, st.Events)
	}
	if a := st.Scaling.Alarms; a[0].Name != "ECS_Fargate_Container_Scaleout_CPU_Utilisation" || a[0].PeriodSeconds != 2.5 {
		t.Errorf("scale-out alarm %+v", a[0])
	}
	t.Logf("speed-up 120: 2 → 4 tasks in %s under load, 4 → 2 in %s after it", out.Round(time.Millisecond), in.Round(time.Millisecond))
}

// subsequence reports whether want's elements appear in got in the same order.
func subsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
