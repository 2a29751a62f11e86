package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/ecs"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/topology"
)

// buildDecagon compiles decagon once per test binary run: the tasks of a real stack are
// `decagon serve` processes. TestMain removes buildDir.
var buildDecagon = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "decagon-devstack")
	if err != nil {
		return "", err
	}
	buildDir.Store(&dir)
	bin := filepath.Join(dir, "decagon")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/decagon").CombinedOutput(); err != nil {
		return "", &buildError{string(out), err}
	}
	return bin, nil
})

var buildDir atomic.Pointer[string]

type buildError struct {
	out string
	err error
}

func (b *buildError) Error() string { return b.err.Error() + ": " + b.out }

// logBuffer collects the stack's and its tasks' logs, shown when a test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// localTopology is the repository's decagon.yaml with the stage throttling raised, so that the
// tests' load is not throttled, and edit applied to the text.
func localTopology(t *testing.T, edit func(string) string) *topology.Topology {
	t.Helper()
	b, err := os.ReadFile("../../decagon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := regexp.MustCompile(`(?m)^(\s+)rateLimit: 100\b`).ReplaceAllString(string(b), "${1}rateLimit: 10000")
	y = regexp.MustCompile(`(?m)^(\s+)burstLimit: 200\b`).ReplaceAllString(y, "${1}burstLimit: 5000")
	if edit != nil {
		y = edit(y)
	}
	topo, err := topology.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// startLocal runs `decagon dev`'s stack with the built binary's tasks, on SQLite, without the
// WAF (its rate-based rule would refuse the load), and returns it with a token.
func startLocal(t *testing.T, topo *topology.Topology, speedup int) (*Local, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds decagon and runs its tasks; skipped with -short")
	}
	bin, err := buildDecagon()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the stack's log:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	l, err := StartLocal(ctx, LocalConfig{Addr: "127.0.0.1:0", Topology: topo, DataDir: dir,
		DatabaseURL: "sqlite:" + filepath.Join(dir, "decagon.db"), MaxUpload: 1 << 20,
		Executable: bin, ScalingSpeedup: speedup, LogLevel: "warn", TaskOutput: logs,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		cancel()
		t.Fatalf("start: %v\n%s", err, logs.String())
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Wait: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("the stack did not stop within 60 s")
		}
	})
	tok, err := l.Mint(idp.MintOptions{User: "load"})
	if err != nil {
		t.Fatal(err)
	}
	return l, tok
}

func serviceStatus(t *testing.T, base, name string) ecs.Status {
	t.Helper()
	for _, st := range getServices(t, base) {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no service %s in /_dev/services", name)
	return ecs.Status{}
}

func taskIDs(st ecs.Status) []string {
	var out []string
	for _, ts := range st.Tasks {
		out = append(out, ts.ID)
	}
	return out
}

// TestLocalReplacementAndDeployment runs decagon's services as real `decagon serve` tasks under
// a steady stream of GETs through the edge: a task killed with kill -9 is replaced within
// seconds and no GET sent after the kill fails (those in flight to the killed process at that
// instant may be cut, see checkAfter); then a rolling deployment replaces every task and no GET
// fails at all.
func TestLocalReplacementAndDeployment(t *testing.T) {
	l, tok := startLocal(t, localTopology(t, nil), 1)
	base := l.URL()

	t.Run("kill -9", func(t *testing.T) {
		before := serviceStatus(t, base, "tests")
		victim := before.Tasks[0]
		ld := startLoad(t, base, tok, "/test", 4)
		if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		var replaced time.Duration
		eventually(t, 30*time.Second, "the killed task replaced and 2 tasks healthy", func() bool {
			st := serviceStatus(t, base, "tests")
			if replaced == 0 && hasEvent(st, ecs.EventTaskReplaced, "task "+victim.ID+" (pid") {
				replaced = time.Since(killed)
			}
			return replaced > 0 && !slices.Contains(taskIDs(st), victim.ID) && ecs.Steady(st)
		})
		healthy := time.Since(killed)
		ld.checkAfter(t, "kill -9", killed)
		if replaced > 5*time.Second {
			t.Errorf("the replacement started %s after kill -9, want within 5 s", replaced)
		}
		t.Logf("kill -9 of %s (pid %d): replacement started after %s, healthy after %s", victim.ID, victim.PID,
			replaced.Round(time.Millisecond), healthy.Round(time.Millisecond))
	})

	t.Run("deployment", func(t *testing.T) {
		before := serviceStatus(t, base, "tests")
		ld := startLoad(t, base, tok, "/test", 4)
		resp, err := http.Post(base+"/_dev/services/tests/deploy", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Deployment ecs.Deployment `json:"deployment"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || body.Deployment.ID != 1 {
			t.Fatalf("deploy: %d %+v", resp.StatusCode, body)
		}
		started := time.Now()
		var after ecs.Status
		eventually(t, 90*time.Second, "deployment 1 finished", func() bool {
			after = serviceStatus(t, base, "tests")
			return hasEvent(after, ecs.EventDeploymentFinished, "deployment 1 finished") && ecs.Steady(after)
		})
		took := time.Since(started)
		ld.check(t, "deployment")
		for _, ts := range after.Tasks {
			if ts.Revision != 1 || slices.Contains(taskIDs(before), ts.ID) {
				t.Errorf("task %s (revision %d) was not replaced; before: %v", ts.ID, ts.Revision, taskIDs(before))
			}
		}
		if !hasEvent(after, ecs.EventDeploymentStarted, "deployment 1 started") {
			t.Errorf("events %+v", after.Events)
		}
		t.Logf("deployment of %d tasks at 50/100 under load: %s", len(after.Tasks), took.Round(time.Millisecond))
	})
}

// TestLocalScaling scales the tests service out under load with decagon.yaml's policy at
// --scaling-speedup 60 (5-minute periods and cooldown of 5 s), its thresholds lowered to 5 %
// and 1 % of the task's vCPU: the machine is shared, and a task may not reach 70 % of its
// quarter CPU; the thresholds themselves are tested in internal/scaling.
func TestLocalScaling(t *testing.T) {
	topo := localTopology(t, func(y string) string {
		y = regexp.MustCompile(`threshold: 70\b`).ReplaceAllString(y, "threshold: 5")
		return regexp.MustCompile(`threshold: 50\b`).ReplaceAllString(y, "threshold: 1")
	})
	l, tok := startLocal(t, topo, 60)
	base := l.URL()
	st := serviceStatus(t, base, "tests")
	if a := st.Scaling.Alarms; len(a) != 2 || a[0].PeriodSeconds != 5 || a[0].Threshold != 5 || st.Scaling.CooldownSeconds != 5 {
		t.Fatalf("scaling %+v", st.Scaling)
	}
	ld := startLoad(t, base, tok, "/test", 4)
	start := time.Now()
	eventually(t, 60*time.Second, "tests scaled out to 3 tasks", func() bool {
		st = serviceStatus(t, base, "tests")
		return st.Desired >= 3 && st.Running >= 3 && hasEvent(st, ecs.EventScaleOut, "desired count 2 → 3")
	})
	// Under load the tasks' CPU shows in Status too, not only in the alarms.
	busiest := 0.0
	for _, ts := range st.Tasks {
		if ts.CPUPercent != nil {
			busiest = max(busiest, *ts.CPUPercent)
		}
	}
	ld.check(t, "scale-out")
	if busiest <= 0 {
		t.Errorf("no task shows any CPU under load: %+v", st.Tasks)
	}
	if a := st.Scaling.Alarms[0]; a.Value == nil || a.State == "INSUFFICIENT_DATA" {
		t.Errorf("scale-out alarm %+v", a)
	}
	t.Logf("speed-up 60: 2 → %d tasks %s after the load started; events %+v", st.Desired, time.Since(start).Round(time.Millisecond), st.Events[0])
}
