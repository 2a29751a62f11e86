package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/devstack/devstacktest"
	"github.com/decagon/decagon/internal/ecs"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/topology"
)

const testTopology = `
stage: {name: Test, throttling: {rateLimit: 10000, burstLimit: 5000}}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    desiredCount: 2
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2}
`

func TestMain(m *testing.M) {
	devstacktest.Main() // a task started by a test's stack: serve, never return
	code := m.Run()
	if dir := buildDir.Load(); dir != nil {
		_ = os.RemoveAll(*dir)
	}
	os.Exit(code)
}

type stack struct {
	*Stack
	t      *testing.T
	cancel context.CancelFunc
	token  string
	waited chan error
}

func startStack(t *testing.T) *stack {
	t.Helper()
	return startStackWith(t, testTopology)
}

func startStackWith(t *testing.T, yaml string) *stack {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	provider, err := idp.Open(t.TempDir(), idp.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + idp.PathPrefix
	if err := provider.SetIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer, ClientIDs: []string{provider.ClientID()}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stack{t: t, cancel: cancel, waited: make(chan error, 1)}
	st, err := Start(ctx, Config{Listener: ln, Topology: topo, Verifier: v, IDP: provider.Handler(),
		Command: devstacktest.Command, Logger: logger, ReadyTimeout: 30 * time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s.Stack = st
	go func() { s.waited <- st.Wait() }()
	t.Cleanup(func() { s.shutdown() })
	if s.token, err = provider.Mint(idp.MintOptions{Issuer: issuer, User: "dev"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// shutdown cancels the stack and waits for it.
func (s *stack) shutdown() {
	s.cancel()
	select {
	case err := <-s.waited:
		if err != nil {
			s.t.Errorf("Wait: %v", err)
		}
		s.waited <- nil // later calls return at once
	case <-time.After(20 * time.Second):
		s.t.Error("stack did not stop within 20 s")
	}
}

func (s *stack) get(path string, headers ...string) (int, []byte, error) {
	return s.send("GET", path, headers...)
}

func (s *stack) send(method, path string, headers ...string) (int, []byte, error) {
	req, _ := http.NewRequest(method, s.URL()+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1] // Header's Host is ignored on requests
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (s *stack) targets() []Target {
	s.t.Helper()
	code, body, err := s.get("/_dev/targets")
	if err != nil || code != 200 {
		s.t.Fatalf("GET /_dev/targets: %d %v %s", code, err, body)
	}
	var out struct {
		TargetGroups []TargetGroup `json:"target_groups"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		s.t.Fatal(err)
	}
	if len(out.TargetGroups) != 1 || out.TargetGroups[0].Name != "tests" {
		s.t.Fatalf("target groups %+v", out.TargetGroups)
	}
	return out.TargetGroups[0].Targets
}

func (s *stack) health(id string) string {
	for _, t := range s.targets() {
		if t.ID == id && t.Health != "draining" {
			return t.Health
		}
	}
	return "absent"
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// services reads GET /_dev/services.
func (s *stack) services() []ecs.Status {
	s.t.Helper()
	return getServices(s.t, s.URL())
}

func getServices(t *testing.T, base string) []ecs.Status {
	t.Helper()
	resp, err := http.Get(base + "/_dev/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Services []ecs.Status `json:"services"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /_dev/services: %d %v", resp.StatusCode, err)
	}
	return out.Services
}

func hasEvent(st ecs.Status, kind ecs.EventKind, contains string) bool {
	return slices.ContainsFunc(st.Events, func(e ecs.Event) bool { return e.Kind == kind && strings.Contains(e.Message, contains) })
}

func TestStack(t *testing.T) {
	s := startStack(t)
	ts := s.targets()
	slices.SortFunc(ts, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	if len(ts) != 2 || ts[0].ID != "tests-1" || ts[1].ID != "tests-2" {
		t.Fatalf("targets %+v", ts)
	}
	for _, tg := range ts {
		if tg.Health != "healthy" || tg.Service != "tests" || !strings.HasPrefix(tg.Address, "127.0.0.1:") ||
			tg.PID <= 0 || tg.StartedAt == nil || tg.State != ecs.TaskRunning || syscall.Kill(tg.PID, 0) != nil {
			t.Fatalf("target %+v", tg)
		}
	}
	// Each target is its own process, answering at its own address.
	if ts[0].PID == ts[1].PID || ts[0].PID == os.Getpid() {
		t.Fatalf("pids %d and %d (test %d)", ts[0].PID, ts[1].PID, os.Getpid())
	}
	eventually(t, 10*time.Second, "cpu and memory measured", func() bool {
		for _, tg := range s.targets() {
			if tg.CPUPercent == nil || tg.MemoryMiB <= 0 {
				return false
			}
		}
		return true
	})
	svcs := s.services()
	if len(svcs) != 1 {
		t.Fatalf("services %+v", svcs)
	}
	st := svcs[0]
	if st.Events == nil {
		t.Error("events are null before the first event, want []")
	}
	if st.Name != "tests" || st.Desired != 2 || st.Running != 2 || st.Healthy != 2 || st.Min != 2 || st.Max != 4 ||
		st.Deployment != nil || st.Scaling == nil || len(st.Scaling.Alarms) != 2 || st.Scaling.Alarms[0].Name != "ECS_Fargate_Container_Scaleout_CPU_Utilisation" {
		t.Fatalf("service %+v", st)
	}
	// The identity provider is mounted outside the authorizer.
	if code, body, err := s.get("/_idp/.well-known/jwks.json"); err != nil || code != 200 || !strings.Contains(string(body), `"keys"`) {
		t.Fatalf("jwks: %d %v %s", code, err, body)
	}
	// The API is behind the authorizer, at both path forms.
	if code, _, _ := s.get("/test"); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	for _, p := range []string{"/test", "/Test/test"} {
		if code, body, err := s.get(p, "Authorization", "Bearer "+s.token); err != nil || code != 200 {
			t.Fatalf("%s: %d %v %s", p, code, err, body)
		}
	}
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
	}{
		// A web page cannot stop a task or deploy: cross-origin, or through a rebinding name.
		{"cross-origin stop", "POST", "/_dev/targets/tests-1/stop", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"cross-origin deploy", "POST", "/_dev/services/tests/deploy", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"rebound host", "GET", "/_dev/services", []string{"Host", "rebind.evil.example"}, 421},
		{"unknown target", "POST", "/_dev/targets/nope/stop", nil, 404},
		{"start is gone", "POST", "/_dev/targets/tests-1/start", nil, 404},
		{"unknown service", "POST", "/_dev/services/nope/deploy", nil, 404},
		{"unknown verb", "POST", "/_dev/services/tests/restart", nil, 404},
		{"deploy with GET", "GET", "/_dev/services/tests/deploy", nil, 405},
		{"list with POST", "POST", "/_dev/services", nil, 405},
	}
	for _, tc := range cases {
		code, body, err := s.send(tc.method, tc.path, tc.headers...)
		if err != nil || code != tc.status {
			t.Errorf("%s: %d %v %s, want %d", tc.name, code, err, body, tc.status)
		}
	}
	if h := s.health("tests-1"); h != "healthy" {
		t.Fatalf("tests-1 after the refusals: %s", h)
	}
}

// load sends GETs through the edge from n workers until stopped, counting failures.
type load struct {
	stop             chan struct{}
	wg               sync.WaitGroup
	ok, failed       atomic.Int64
	firstErr         atomic.Value
	mu               sync.Mutex
	failedAt         []time.Time // when each failed request was sent
	pids             sync.Map
	url, token, path string
}

func startLoad(t *testing.T, url, token, path string, n int) *load {
	l := &load{stop: make(chan struct{}), url: url, token: token, path: path}
	client := &http.Client{Timeout: 10 * time.Second}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				sent := time.Now()
				req, _ := http.NewRequest("GET", l.url+l.path, nil)
				req.Header.Set("Authorization", "Bearer "+l.token)
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
					}
				}
				if err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
					l.mu.Lock()
					l.failedAt = append(l.failedAt, sent)
					l.mu.Unlock()
					continue
				}
				var m map[string]any
				if json.Unmarshal(body, &m) == nil && m["pid"] != nil {
					l.pids.Store(m["pid"], true)
				}
				l.ok.Add(1)
			}
		}()
	}
	t.Cleanup(l.end)
	eventually(t, 10*time.Second, "traffic", func() bool { return l.ok.Load() > 20 || l.failed.Load() > 0 })
	return l
}

// end stops the load and waits for its workers.
func (l *load) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// checkAfter is check for a load during which a task was killed at killed: the GETs in
// flight to it then are cut (an ALB answers them 502 as well, and the balancer retries only
// what could not connect or found a pooled connection closed); every GET sent after it must
// succeed.
func (l *load) checkAfter(t *testing.T, what string, killed time.Time) {
	t.Helper()
	l.end()
	l.mu.Lock()
	defer l.mu.Unlock()
	cut := 0
	for _, at := range l.failedAt {
		if at.Before(killed) {
			cut++
		}
	}
	if after := len(l.failedAt) - cut; after != 0 {
		t.Fatalf("%s: %d GETs sent after the kill failed (%d in flight were cut); first: %v", what, after, cut, l.firstErr.Load())
	}
	t.Logf("%s: %d GETs, none sent after the kill failed; %d in flight at the kill were cut", what, l.ok.Load()+l.failed.Load(), cut)
}

func (l *load) check(t *testing.T, what string) {
	t.Helper()
	l.end()
	if n := l.failed.Load(); n != 0 {
		t.Fatalf("%s: %d of %d GETs failed; first: %v", what, n, n+l.ok.Load(), l.firstErr.Load())
	}
	t.Logf("%s: %d GETs, none failed", what, l.ok.Load())
}

// TestStopTaskUnderLoad stops a task through the admin API while GETs stream through the edge:
// none is lost, the task drains and exits, and the scheduler replaces it with a new task (new
// ID, new port, new process) that serves.
func TestStopTaskUnderLoad(t *testing.T) {
	s := startStack(t)
	var victim Target
	for _, tg := range s.targets() {
		if tg.ID == "tests-1" {
			victim = tg
		}
	}
	l := startLoad(t, s.URL(), s.token, "/test", 4)
	code, body, err := s.send("POST", "/_dev/targets/tests-1/stop")
	if err != nil || code != 200 || !strings.Contains(string(body), `"STOPPING"`) {
		t.Fatalf("stop: %d %v %s", code, err, body)
	}
	eventually(t, 20*time.Second, "tests-1 replaced by tests-3, healthy", func() bool {
		ids := map[string]string{}
		for _, tg := range s.targets() {
			ids[tg.ID] = tg.Health
		}
		return ids["tests-3"] == "healthy" && ids["tests-1"] == "" && ids["tests-2"] == "healthy"
	})
	eventually(t, 10*time.Second, "the first task's process gone", func() bool { return syscall.Kill(victim.PID, 0) != nil })
	afterStop := l.ok.Load()
	eventually(t, 10*time.Second, "traffic after the replacement", func() bool { return l.ok.Load() > afterStop+50 })
	l.check(t, "stop under load")
	st := s.services()[0]
	if !hasEvent(st, ecs.EventTaskReplaced, "task tests-1 stopped (stopped through the admin API); replaced by task tests-3") {
		t.Fatalf("events %+v", st.Events)
	}
}

func TestShutdownStopsEverything(t *testing.T) {
	s := startStack(t)
	var addrs []string
	var pids []int
	for _, tg := range s.targets() {
		addrs = append(addrs, tg.Address)
		pids = append(pids, tg.PID)
	}
	s.shutdown()
	for _, a := range append(addrs, strings.TrimPrefix(s.URL(), "http://")) {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still accepts connections after shutdown", a)
		}
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Fatalf("task process %d still runs after shutdown", pid)
		}
	}
}

// A service of one task at 50/100 cannot be deployed (no task may stop, none may be added):
// 409 as a problem, as ECS refuses it, and nothing changes.
func TestDeployWithoutRoomIsAConflict(t *testing.T) {
	s := startStackWith(t, strings.Replace(testTopology, "desiredCount: 2", "desiredCount: 1\n    minCount: 1", 1))
	code, body, err := s.send("POST", "/_dev/services/tests/deploy")
	if err != nil || code != http.StatusConflict || !strings.Contains(string(body), "no room to replace a task") {
		t.Fatalf("deploy: %d %v %s", code, err, body)
	}
	if st := s.services()[0]; st.Deployment != nil || st.Running != 1 || len(st.Events) != 0 {
		t.Fatalf("after the refusal: %+v", st)
	}
}
