package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
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

// fakeService is a replica: /health-check (503 once drained) and an echo of its number.
func fakeService(built *atomic.Int64) ServiceFactory {
	return func(ctx context.Context, service string) (http.Handler, func(), error) {
		n := built.Add(1)
		var draining atomic.Bool
		mux := http.NewServeMux()
		mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				w.WriteHeader(503)
				return
			}
			_, _ = io.WriteString(w, `{"status":"ok"}`)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"service": service, "instance": n, "path": r.URL.Path})
		})
		return mux, func() { draining.Store(true) }, nil
	}
}

type stack struct {
	*Stack
	t      *testing.T
	cancel context.CancelFunc
	token  string
	built  atomic.Int64
	waited chan error
}

func startStack(t *testing.T) *stack {
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
	topo, err := topology.Parse([]byte(testTopology))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stack{t: t, cancel: cancel, waited: make(chan error, 1)}
	st, err := Start(ctx, Config{Listener: ln, Topology: topo, Verifier: v, IDP: provider.Handler(),
		NewService: fakeService(&s.built), Logger: logger, ReadyTimeout: 10 * time.Second})
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

func TestStack(t *testing.T) {
	s := startStack(t)
	ts := s.targets()
	if len(ts) != 2 || ts[0].ID != "tests-1" || ts[1].ID != "tests-2" {
		t.Fatalf("targets %+v", ts)
	}
	for _, tg := range ts {
		if tg.Health != "healthy" || tg.Service != "tests" || !strings.HasPrefix(tg.Address, "127.0.0.1:") {
			t.Fatalf("target %+v", tg)
		}
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
	// A cross-origin POST from a web page cannot stop a replica.
	code, _, _ := s.send("POST", "/_dev/targets/tests-1/stop", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
	if code != http.StatusForbidden || s.health("tests-1") != "healthy" {
		t.Fatalf("cross-origin stop: %d, %s", code, s.health("tests-1"))
	}
	if code, _, _ := s.send("POST", "/_dev/targets/nope/stop"); code != 404 {
		t.Fatalf("unknown target: %d", code)
	}
}

// TestStopReplicaUnderLoad stops a replica through the admin API while GETs stream through
// the edge: none is lost, the admin API shows it stopped, and once started again (same ID,
// new port) it is healthy and serves again.
func TestStopReplicaUnderLoad(t *testing.T) {
	s := startStack(t)
	before := s.targets()[0].Address
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	instances := sync.Map{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := s.get("/test", "Authorization", "Bearer "+s.token)
				if err != nil || code != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, string(body)+errText(err))
					continue
				}
				var m map[string]any
				_ = json.Unmarshal(body, &m)
				instances.Store(m["instance"], true)
				ok.Add(1)
			}
		}()
	}
	eventually(t, 5*time.Second, "traffic", func() bool { return ok.Load() > 50 })
	code, body, err := s.send("POST", "/_dev/targets/tests-1/stop")
	if err != nil || code != 200 || !strings.Contains(string(body), `"stopped"`) {
		t.Fatalf("stop: %d %v %s", code, err, body)
	}
	if h := s.health("tests-1"); h != "stopped" {
		t.Fatalf("after stop: %s", h)
	}
	afterStop := ok.Load()
	eventually(t, 5*time.Second, "traffic after the stop", func() bool { return ok.Load() > afterStop+100 })

	code, body, err = s.send("POST", "/_dev/targets/tests-1/start")
	if err != nil || code != 200 {
		t.Fatalf("start: %d %v %s", code, err, body)
	}
	eventually(t, 5*time.Second, "tests-1 healthy again", func() bool { return s.health("tests-1") == "healthy" })
	eventually(t, 5*time.Second, "the new tests-1 serves", func() bool {
		_, seen := instances.Load(float64(3)) // instances 1 and 2 at start, 3 after the restart
		return seen
	})
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d GETs failed; first: %v", n, n+ok.Load(), firstErr.Load())
	}
	for _, tg := range s.targets() {
		if tg.ID == "tests-1" && tg.Health == "healthy" && tg.Address == before {
			t.Fatalf("restarted replica kept its old port %s", before)
		}
	}
}

func TestShutdownStopsEverything(t *testing.T) {
	s := startStack(t)
	var addrs []string
	for _, tg := range s.targets() {
		addrs = append(addrs, tg.Address)
	}
	s.shutdown()
	for _, a := range append(addrs, strings.TrimPrefix(s.URL(), "http://")) {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still accepts connections after shutdown", a)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " " + err.Error()
}
