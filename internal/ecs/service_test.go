package ecs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/topology"
)

// newGroup returns a target group with fast health checks, as the local edge's.
func newGroup(t *testing.T) *balancer.Group {
	t.Helper()
	g, err := balancer.New(balancer.Config{
		Name:                "tests",
		HealthCheck:         fastCheck(),
		DeregistrationDelay: time.Second,
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// fastCheck is a health check as topology.Parse provisions one, with the fast timing of tests:
// fast, but not so fast that a task starved of CPU on a loaded CI machine (tests run with -race
// beside every other package) misses its checks.
func fastCheck() topology.HealthCheck {
	ok, err := topology.ParseStatusCodes("200")
	if err != nil {
		panic(err)
	}
	return topology.HealthCheck{Path: "/health-check", Interval: 200 * time.Millisecond,
		Timeout: 200 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 3, Success: ok}
}

// testService is the tests service of the repository's decagon.yaml.
func testService(t *testing.T) topology.Service {
	t.Helper()
	topo, err := topology.Load("../../decagon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := topo.Service("tests")
	if !ok {
		t.Fatal("decagon.yaml has no tests service")
	}
	return *svc
}

// testConfig is the tests service of decagon.yaml with the test task as its command.
func testConfig(t *testing.T, g *balancer.Group, env ...string) Config {
	t.Helper()
	cfg := ConfigFor(testService(t))
	cfg.Command = taskCommand(env...)
	cfg.Targets = GroupTargets(g)
	cfg.StopTimeout = 5 * time.Second
	cfg.SampleInterval = 200 * time.Millisecond
	cfg.Output = io.Discard
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// run runs the service until the test ends, and waits for it to stop its tasks.
func run(t *testing.T, cfg Config) *Service {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		last := s.Status().Tasks
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if n := len(s.Status().Tasks); n != 0 {
			t.Errorf("%d tasks left after Run returned", n)
		}
		for _, ts := range last {
			if ts.PID > 0 && syscall.Kill(ts.PID, 0) == nil {
				t.Errorf("task %s (pid %d) still runs after Run returned", ts.ID, ts.PID)
			}
		}
	})
	return s
}

// waitFor waits up to d for cond, failing the test with the last status.
func waitFor(t *testing.T, s *Service, d time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	st, err := s.WaitFor(ctx, cond)
	if err != nil {
		t.Fatalf("%s: not within %s; status %+v", what, d, st)
	}
	return st
}

func hasEvent(st Status, kind EventKind, contains string) bool {
	return slices.ContainsFunc(st.Events, func(e Event) bool { return e.Kind == kind && strings.Contains(e.Message, contains) })
}

func ids(st Status) []string {
	var out []string
	for _, ts := range st.Tasks {
		out = append(out, ts.ID)
	}
	return out
}

func TestKilledTaskIsReplaced(t *testing.T) {
	s := run(t, testConfig(t, newGroup(t)))
	st := waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)
	victim := st.Tasks[0]
	killed := time.Now()
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, s, 5*time.Second, "replacement started", func(st Status) bool {
		return hasEvent(st, EventTaskReplaced, victim.ID) && !slices.Contains(ids(st), victim.ID) && len(st.Tasks) == 2
	})
	replaced := time.Since(killed)
	if replaced > 2*time.Second {
		t.Errorf("replacement started %s after kill -9, want within 2s", replaced)
	}
	waitFor(t, s, 10*time.Second, "two healthy tasks again", Steady)
	t.Logf("kill -9: replacement started after %s, healthy after %s; event %q", replaced.Round(time.Millisecond),
		time.Since(killed).Round(time.Millisecond), st.Events[0].Message)
	if !strings.Contains(st.Events[0].Message, "signal: killed") {
		t.Errorf("event %q does not say how the task ended", st.Events[0].Message)
	}
}

func TestUnhealthyTaskIsReplaced(t *testing.T) {
	s := run(t, testConfig(t, newGroup(t)))
	st := waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)
	victim := st.Tasks[1]
	resp, err := http.Post("http://"+victim.Address+"/fail-health", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	st = waitFor(t, s, 10*time.Second, "unhealthy task replaced", func(st Status) bool {
		return hasEvent(st, EventTaskReplaced, victim.ID+" (pid") && !slices.Contains(ids(st), victim.ID) && Steady(st)
	})
	if !hasEvent(st, EventTaskReplaced, "failed its health checks") {
		t.Errorf("no event says the task failed its health checks: %+v", st.Events)
	}
	if err := syscall.Kill(victim.PID, 0); err == nil {
		t.Errorf("the unhealthy task's process %d still runs", victim.PID)
	}
}

// TestRollingDeployment replaces both tasks at 50/100 under a steady load of GETs through the
// target group: at no moment fewer than one healthy target or more than two processes, and
// no request fails.
func TestRollingDeployment(t *testing.T) {
	g := newGroup(t)
	cfg := testConfig(t, g)
	order := &drainFirst{Targets: cfg.Targets}
	cfg.Targets = order
	s := run(t, cfg)
	order.s.Store(s)
	before := waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	client := &http.Client{Transport: g, Timeout: 5 * time.Second}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				sent.Add(1)
				resp, err := client.Get("http://tests/")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = &statusError{resp.StatusCode}
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	minHealthy, maxAlive := 2, 0
	var pollWG sync.WaitGroup
	pollWG.Add(1)
	go func() { // watches the group itself, between the scheduler's steps
		defer pollWG.Done()
		for ctx.Err() == nil {
			healthy := 0
			for _, tg := range g.Targets() {
				if tg.State() == balancer.StateHealthy {
					healthy++
				}
			}
			minHealthy = min(minHealthy, healthy)
			maxAlive = max(maxAlive, len(s.Status().Tasks))
			time.Sleep(5 * time.Millisecond)
		}
	}()

	d, err := s.Deploy()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	after := waitFor(t, s, 60*time.Second, "deployment finished", func(st Status) bool {
		return hasEvent(st, EventDeploymentFinished, "deployment 1") && Steady(st)
	})
	took := time.Since(started)
	stop()
	wg.Wait()
	pollWG.Wait()
	if d.ID != 1 {
		t.Errorf("deployment ID %d, want 1", d.ID)
	}
	for _, ts := range after.Tasks {
		if ts.Revision != 1 || slices.Contains(ids(before), ts.ID) {
			t.Errorf("task %s (revision %d) was not replaced", ts.ID, ts.Revision)
		}
	}
	if minHealthy < 1 {
		t.Errorf("healthy targets fell to %d during the deployment, want at least 1 (50%% of 2)", minHealthy)
	}
	if maxAlive > 2 {
		t.Errorf("%d task processes at once, want at most 2 (100%% of 2)", maxAlive)
	}
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed during the deployment; first: %v", failed.Load(), sent.Load(), firstErr.Load())
	}
	// At least the two old tasks; one more when a busy machine made a task miss its 100 ms
	// health checks and the scheduler replaced it, drained as well.
	if drained, early := order.result(); drained < 2 || len(early) > 0 {
		t.Errorf("%d old tasks drained; stopped before their drain ended: %v", drained, early)
	}
	if !hasEvent(after, EventDeploymentStarted, "deployment 1 started") {
		t.Errorf("no deployment-started event: %+v", after.Events)
	}
	t.Logf("deployment of 2 tasks at 50/100: %s, %d requests, %d failed, min healthy %d, max processes %d",
		took.Round(time.Millisecond), sent.Load(), failed.Load(), minHealthy, maxAlive)
}

// drainFirst checks, as each deregistration returns, that the task's process still runs:
// the drain ends before the task is signalled.
type drainFirst struct {
	Targets
	s       atomic.Pointer[Service]
	mu      sync.Mutex
	drained int
	early   []string
}

func (d *drainFirst) Deregister(ctx context.Context, id string) error {
	err := d.Targets.Deregister(ctx, id)
	s := d.s.Load()
	if s == nil || err != nil {
		return err
	}
	for _, ts := range s.Status().Tasks {
		if ts.ID == id && ts.State == TaskStopping {
			d.mu.Lock()
			d.drained++
			if syscall.Kill(ts.PID, 0) != nil {
				d.early = append(d.early, id)
			}
			d.mu.Unlock()
		}
	}
	return nil
}

func (d *drainFirst) result() (int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drained, slices.Clone(d.early)
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

func TestDeployRefusedWithoutRoom(t *testing.T) {
	cfg := testConfig(t, newGroup(t))
	cfg.DesiredCount = 1 // 50 % of 1 rounds up to 1, 100 % of 1 is 1: nothing can move
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deploy(); !errors.Is(err, decagon.ErrConflict) || !strings.Contains(err.Error(), "no room") {
		t.Errorf("Deploy with 1 task at 50/100 = %v, want a conflict", err)
	}
	if err := s.SetDesired(-1); err == nil {
		t.Error("SetDesired(-1) accepted")
	}
}

func TestUsageIsReported(t *testing.T) {
	s := run(t, testConfig(t, newGroup(t)))
	st := waitFor(t, s, 20*time.Second, "usage of both tasks", func(st Status) bool {
		if !Steady(st) {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.CPUPercent == nil || ts.MemoryMiB <= 0 || ts.PID <= 0 || ts.StartedAt.IsZero() {
				return false
			}
		}
		return true
	})
	for _, ts := range st.Tasks {
		if ts.MemoryMiB > 512 || *ts.CPUPercent < 0 {
			t.Errorf("task %s: %.1f MiB, %.1f%% CPU", ts.ID, ts.MemoryMiB, *ts.CPUPercent)
		}
	}
	_ = os.Getpid
}

// TestCrashingTaskBacksOff: a task that cannot start is replaced with a growing delay, not in
// a busy loop.
func TestCrashingTaskBacksOff(t *testing.T) {
	cfg := testConfig(t, newGroup(t))
	cfg.Command = taskCommand(testAddrEnv + "=256.0.0.1:1") // cannot listen: exits with status 1
	s := run(t, cfg)
	st := waitFor(t, s, 15*time.Second, "three replacements", func(st Status) bool {
		n := 0
		for _, e := range st.Events {
			if e.Kind == EventTaskReplaced {
				n++
			}
		}
		return n >= 3
	})
	var times []time.Time // of the replacements, oldest first
	for _, e := range slices.Backward(st.Events) {
		if e.Kind == EventTaskReplaced {
			times = append(times, e.Time)
		}
	}
	if gap := times[2].Sub(times[0]); gap < time.Second {
		t.Errorf("three replacements within %s: no backoff", gap)
	}
	if !strings.Contains(st.Events[len(st.Events)-1].Message, "exit status 1") {
		t.Errorf("the event does not say how the task ended: %q", st.Events[len(st.Events)-1].Message)
	}
}

// TestSetDesired scales by hand, as update-service --desired-count: the newest task goes first.
func TestSetDesired(t *testing.T) {
	s := run(t, testConfig(t, newGroup(t)))
	waitFor(t, s, 20*time.Second, "two healthy tasks", Steady)
	if err := s.SetDesired(3); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, s, 20*time.Second, "three healthy tasks", func(st Status) bool { return st.Desired == 3 && Steady(st) })
	newest := st.Tasks[0]
	for _, ts := range st.Tasks {
		if ts.StartedAt.After(newest.StartedAt) {
			newest = ts
		}
	}
	if err := s.SetDesired(2); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, s, 20*time.Second, "two healthy tasks", func(st Status) bool { return st.Desired == 2 && Steady(st) })
	if slices.Contains(ids(st), newest.ID) {
		t.Errorf("scale-in kept the newest task %s and stopped an older one: %v", newest.ID, ids(st))
	}
	if !s.StopTask(st.Tasks[0].ID, "by hand") {
		t.Fatal("StopTask did not find a running task")
	}
	waitFor(t, s, 20*time.Second, "the stopped task replaced", func(st Status) bool {
		return Steady(st) && hasEvent(st, EventTaskReplaced, "stopped (by hand)")
	})
}
