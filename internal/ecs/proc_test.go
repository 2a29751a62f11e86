package ecs

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/scaling"
	"github.com/decagon/decagon/internal/topology"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       uint64
		err        bool
	}{
		{name: "plain", stat: "42 (decagon) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 1000 200 18446744073709551615", want: 300},
		{name: "spaces and parens in comm", stat: "7 (a b) (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1", want: 7},
		{name: "truncated", stat: "7 (x) R 1 2 3", err: true},
		{name: "no comm", stat: "7 x R", err: true},
		{name: "not a number", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 u 4 0", err: true},
	} {
		got, err := parseStatCPU([]byte(tc.stat))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, errProcFormat) {
			t.Errorf("%s: error %v is not errProcFormat", tc.name, err)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         uint64
		err          bool
	}{
		{name: "present", status: "Name:\tdecagon\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t8\n", want: 12345 << 10},
		{name: "zombie", status: "Name:\tdecagon\nState:\tZ (zombie)\n", err: true},
		{name: "bad unit", status: "VmRSS:\t12 MB\n", err: true},
		{name: "huge", status: "VmRSS:\t99999999999999999 kB\n", err: true},
	} {
		got, err := parseStatusRSS([]byte(tc.status))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestReadUsageSelf(t *testing.T) {
	a, err := readUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); { // burn some CPU
	}
	b, err := readUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if b.rss == 0 || b.ticks <= a.ticks {
		t.Fatalf("usage did not move: %+v then %+v", a, b)
	}
	// One busy goroutine against a quarter vCPU is 400 % on an idle machine; a shared one gives
	// it less, and the whole process (test runner, race detector) can use every CPU at most.
	if p, most := cpuPercent(a, b, 0.25), float64(runtime.NumCPU())*400*1.2; p <= 0 || p > most {
		t.Errorf("cpu = %.0f%% of 0.25 vCPU after 300 ms busy, want within (0, %.0f]", p, most)
	}
}

func FuzzParseProc(f *testing.F) {
	f.Add([]byte("42 (decagon) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0"))
	f.Add([]byte("VmRSS:\t   12345 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStatCPU(b)
		if rss, err := parseStatusRSS(b); err == nil && rss>>10 > 1<<50 {
			t.Fatalf("rss %d beyond the bound", rss)
		}
	})
}

func TestUtilizationFollowsTheScalingMetric(t *testing.T) {
	for _, tc := range []struct {
		metric string
		want   float64
	}{
		{"CPUUtilization", 80},
		{"MemoryUtilization", 25}, // 128 MiB of 512
	} {
		s := &Service{cfg: Config{Limits: Limits{CPU: 256, MemoryMiB: 512}, Scaling: &scaling.Config{Scaling: topology.Scaling{Metric: tc.metric}}}}
		if got := s.utilization(80, 128<<20); got != tc.want {
			t.Errorf("%s: %g, want %g", tc.metric, got, tc.want)
		}
	}
}

// FreeAddr never hands out a port twice in a row of calls, although the kernel may give a
// port just closed to the next bind: tasks started together get ports of their own.
func TestFreeAddrDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		a, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if seen[a] {
			t.Fatalf("%s handed out twice", a)
		}
		seen[a] = true
	}
}
