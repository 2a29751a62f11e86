package ecs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cgroupsMounted reports whether this machine has cgroups at all (v1 cpu and memory
// hierarchies, or the v2 unified one).
func cgroupsMounted() bool {
	for _, p := range []string{"cgroup.controllers", "cpu/cpu.cfs_quota_us"} {
		if _, err := os.Stat(filepath.Join(cgroupRoot, p)); err == nil {
			return true
		}
	}
	return false
}

func TestParseProcCgroup(t *testing.T) {
	got := parseProcCgroup([]byte("12:cpu,cpuacct:/a/b\n4:memory:/m\n0::/unified\nbroken\n"))
	want := map[string]string{"cpu": "/a/b", "cpuacct": "/a/b", "memory": "/m", "": "/unified"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTaskLimits(t *testing.T) {
	cg, err := detectCgroups()
	if err != nil {
		if os.Getenv("CI") != "" && cgroupsMounted() {
			t.Fatalf("cgroups are mounted but task limits cannot be applied: %v", err)
		}
		t.Skipf("task limits not applicable on this machine (cgroups mounted: %v): %v", cgroupsMounted(), err)
	}
	burn := filepath.Join(t.TempDir(), "burn")
	cfg := testConfig(t, newGroup(t), testBurnEnv+"="+burn, testDutyEnv+"=100")
	cfg.TaskLimits = true
	// A 500 ms window overlaps at most 6 CFS periods of 25 ms quota each: 150 ms, 120 %, plus a
	// tick or two of /proc resolution.
	cfg.SampleInterval = 500 * time.Millisecond
	s := run(t, cfg)
	st := waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)
	if !strings.Contains(st.Limits, "cgroup of 256 CPU units and 512 MiB") {
		t.Errorf("Status.Limits = %q", st.Limits)
	}
	dirsOf := func(id string) (cpu, memory string) {
		name := fmt.Sprintf("decagon-%d-%s", os.Getpid(), id)
		if cg.v2 {
			return filepath.Join(cg.cpu, name), filepath.Join(cg.cpu, name)
		}
		return filepath.Join(cg.cpu, name), filepath.Join(cg.memory, name)
	}
	want := map[string]string{ // v1 file → value, for 256 CPU units, 512 MiB, 100 MiB reserved
		"cpu.cfs_quota_us": "25000", "cpu.cfs_period_us": "100000",
		"memory.limit_in_bytes": strconv.Itoa(512 << 20), "memory.soft_limit_in_bytes": strconv.Itoa(100 << 20),
	}
	if cg.v2 {
		want = map[string]string{"cpu.max": "25000 100000", "memory.max": strconv.Itoa(512 << 20), "memory.low": strconv.Itoa(100 << 20)}
	}
	for _, ts := range st.Tasks {
		cpu, memory := dirsOf(ts.ID)
		for file, value := range want {
			dir := cpu
			if strings.HasPrefix(file, "memory.") {
				dir = memory
			}
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != value {
				t.Errorf("task %s: %s = %q, want %q", ts.ID, file, got, value)
			}
		}
		for _, dir := range []string{cpu, memory} {
			b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains("\n"+string(b), "\n"+strconv.Itoa(ts.PID)+"\n") {
				t.Errorf("task %s: pid %d not in %s/cgroup.procs: %q", ts.ID, ts.PID, dir, b)
			}
		}
	}
	// A task spinning on a whole CPU is held to its quarter: about 100 % of its vCPU, where it
	// would show up to 400 % without the quota. (On a busy machine it may get less.)
	if err := os.WriteFile(burn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, 10*time.Second, "tasks burning", func(st Status) bool {
		return !slices.ContainsFunc(st.Tasks, func(ts TaskStatus) bool { return ts.CPUPercent == nil || *ts.CPUPercent < 50 })
	})
	peak := 0.0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, ts := range s.Status().Tasks {
			if ts.CPUPercent != nil { // nil for a replacement not measured yet, on a busy machine
				peak = max(peak, *ts.CPUPercent)
			}
		}
	}
	if err := os.Remove(burn); err != nil {
		t.Fatal(err)
	}
	if peak > 150 {
		t.Errorf("a spinning task reached %.0f%% of its vCPU: the cpu quota does not hold it", peak)
	}
	t.Logf("spinning tasks in cgroups of 256 CPU units: peak %.0f%% of their vCPU", peak)

	// A task that dies leaves no cgroup behind. (A task held to its quota while it spins may
	// have failed its 100 ms health checks and been replaced meanwhile: take a current one.)
	st = waitFor(t, s, 20*time.Second, "two healthy tasks after the burn", Steady)
	victim := st.Tasks[0]
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, 10*time.Second, "replaced", func(st Status) bool { return Steady(st) && !slices.Contains(ids(st), victim.ID) })
	cpu, memory := dirsOf(victim.ID)
	for _, dir := range []string{cpu, memory} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left behind after its task died (%v)", dir, err)
		}
	}
}
