package edge

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/idp"
)

func TestThrottling(t *testing.T) {
	const topo = `
stage:
  name: Test
  throttling:
    rateLimit: 0.5
    burstLimit: 3
    methods:
      "GET /health-check": {rateLimit: 1, burstLimit: 5}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2}
`
	h := newHarness(t, 1, topo)
	tok := "Bearer " + mint(t, idp.MintOptions{})
	for i := range 3 {
		if r := h.do("GET", "/test", "", "Authorization", tok); r.status != 200 {
			t.Fatalf("request %d within the burst: %d", i, r.status)
		}
	}
	r := h.do("GET", "/test", "", "Authorization", tok)
	if r.status != 429 {
		t.Fatalf("past the burst: %d", r.status)
	}
	r.problem(t)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// The overridden method has a bucket of its own.
	for i := range 5 {
		if r := h.do("GET", "/health-check", ""); r.status != 200 {
			t.Fatalf("health check %d: %d", i, r.status)
		}
	}
	if r := h.do("GET", "/health-check", ""); r.status != 429 {
		t.Fatalf("health check past its burst: %d", r.status)
	}
}

func TestBucket(t *testing.T) {
	b := newBucket(2, 2)
	now := b.last
	for i := range 2 {
		if ok, _ := b.take(now); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := b.take(now)
	if ok || wait != 1 {
		t.Fatalf("empty bucket: ok=%v wait=%d", ok, wait)
	}
	if ok, _ := b.take(now + int64(500*time.Millisecond)); !ok {
		t.Fatal("a token should be back after 1/rate")
	}
	if ok, _ := b.take(now + int64(time.Hour)); !ok {
		t.Fatal("refilled bucket refused")
	}
	if ok, _ := b.take(now + int64(time.Hour)); !ok {
		t.Fatal("burst of 2 after a long pause")
	}
	if ok, _ := b.take(now + int64(time.Hour)); ok {
		t.Fatal("bucket exceeded its burst")
	}
}

func TestLeastOutstanding(t *testing.T) {
	h := newHarness(t, 2, testTopology)
	slow, fast := h.backends[0], h.backends[1]
	g, _ := h.edge.Group("tests")
	release := make(chan struct{})
	slow.setHandler(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(200)
	})
	tok := "Bearer " + mint(t, idp.MintOptions{})
	// Four requests park on the slow target one after another: each new one goes to the
	// target with fewer outstanding requests, so while slow holds one, fast takes the rest.
	var wg sync.WaitGroup
	var failed, done atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := h.try("GET", "/test", "", "Authorization", tok); err != nil || r.status != 200 {
				failed.Add(1)
			}
			done.Add(1)
		}()
	}
	// Settled: the slow target holds some, the fast one has answered all the others.
	eventually(t, 5*time.Second, "the slow target holds a request", func() bool {
		settled := slow.hits.Load() >= 1 && slow.hits.Load()+done.Load() == 4
		for _, tg := range g.Targets() {
			if tg.Addr == fast.addr && tg.Outstanding() != 0 {
				settled = false
			}
		}
		return settled
	})
	for i := range 20 {
		if r := h.do("GET", "/test", "", "Authorization", tok); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	close(release)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d parked requests failed", failed.Load())
	}
	// The slow target never had fewer outstanding requests than the fast one once it held one,
	// so the 20 sequential requests all went to the fast one.
	if f := fast.hits.Load(); f < 20 {
		t.Fatalf("fast target got %d, slow %d: not least outstanding", f, slow.hits.Load())
	}
}

func TestHealthChecks(t *testing.T) {
	h := newHarness(t, 2, testTopology)
	a, b := h.backends[0], h.backends[1]
	g, _ := h.edge.Group("tests")
	state := func(id string) balancer.State {
		for _, tg := range g.Targets() {
			if tg.ID == id {
				return tg.State()
			}
		}
		return -1
	}
	// Failing checks (503) take a out within its unhealthy threshold.
	a.health.Store(503)
	eventually(t, 2*time.Second, "a unhealthy", func() bool { return state("tests-1") == balancer.StateUnhealthy })
	before := a.hits.Load()
	for range 10 {
		if r := h.do("GET", "/health-check", ""); r.status != 200 || r.echo(t).Backend != "b" {
			t.Fatalf("status %d from %s while a is unhealthy", r.status, r.echo(t).Backend)
		}
	}
	if a.hits.Load() != before {
		t.Fatal("the unhealthy target got traffic")
	}
	// Passing checks bring it back.
	a.health.Store(200)
	eventually(t, 2*time.Second, "a healthy again", func() bool { return state("tests-1") == balancer.StateHealthy })
	eventually(t, 2*time.Second, "a gets traffic again", func() bool {
		h.do("GET", "/health-check", "")
		return a.hits.Load() > before
	})

	// A stopped target fails its checks; restarted, it passes them again.
	b.stop()
	eventually(t, 2*time.Second, "b unhealthy after stop", func() bool { return state("tests-2") == balancer.StateUnhealthy })
	b.restart()
	eventually(t, 2*time.Second, "b healthy after restart", func() bool { return state("tests-2") == balancer.StateHealthy })

	// With no healthy target the group fails open, as an ALB does: requests still reach the
	// targets (issue 11, item 8), and they answer.
	a.health.Store(500)
	b.health.Store(500)
	eventually(t, 2*time.Second, "both unhealthy", func() bool {
		return state("tests-1") == balancer.StateUnhealthy && state("tests-2") == balancer.StateUnhealthy
	})
	for i := range 4 {
		if r := h.do("GET", "/health-check", ""); r.status != 200 {
			t.Fatalf("request %d with every target unhealthy: %d %s, want fail open", i, r.status, r.body)
		}
	}
	// With every target gone (nothing listens), the edge answers 503 itself.
	a.stop()
	b.stop()
	eventually(t, 3*time.Second, "no target to fail open to", func() bool {
		tg, err := g.Pick(nil)
		if err == nil {
			g.Release(tg)
		}
		return err != nil
	})
	r := h.do("GET", "/health-check", "")
	if r.status != 503 {
		t.Fatalf("no target left: %d", r.status)
	}
	if p := r.problem(t); p["detail"] != "no healthy target" {
		t.Fatalf("problem %v", p)
	}
}

func TestRetryOnConnectionFailure(t *testing.T) {
	// Checks every 5 minutes: the closed target stays "healthy" for the whole test, so every
	// other request is sent to it and fails to connect.
	const topo = `
stage: {name: Test}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    healthCheck:
      local: {interval: 300s, timeout: 1s, healthyThreshold: 1, unhealthyThreshold: 2}
`
	h := newHarness(t, 2, topo)
	dead, live := h.backends[0], h.backends[1]
	dead.stop()
	tok := "Bearer " + mint(t, idp.MintOptions{})
	for i := range 10 {
		r := h.do("GET", "/test", "", "Authorization", tok)
		if r.status != 200 || r.echo(t).Backend != "b" {
			t.Fatalf("GET %d: %d %s", i, r.status, r.body)
		}
		if i == 0 {
			continue
		}
		line := h.logFor(r.header.Get("X-Request-Id"))
		if line["target"] != live.addr {
			t.Fatalf("access log target %v, want %s", line["target"], live.addr)
		}
	}
	// A POST that never reached the dead target (connection refused) is safe to send to the
	// live one, whatever its method (issue 11, item 5): none fails.
	for i := range 10 {
		r := h.do("POST", "/test", `{"name":"x"}`, "Authorization", tok, "Content-Type", "application/json")
		if r.status != 200 || r.echo(t).Backend != "b" {
			t.Fatalf("POST %d: %d %s", i, r.status, r.body)
		}
	}
	// A streamed upload (its body is not buffered, so it cannot be had again) goes too: the
	// refused attempt never read it.
	for i := range 6 {
		r := h.do("POST", "/upload?filename=a.bin", "upload bytes", "Authorization", tok, "Content-Type", "application/octet-stream")
		if r.status != 200 || r.echo(t).Body != "upload bytes" {
			t.Fatalf("upload %d: %d %s", i, r.status, r.body)
		}
	}
	if dead.hits.Load() != 0 || live.hits.Load() != 26 {
		t.Fatalf("dead target saw %d requests, live %d; want 0 and 26", dead.hits.Load(), live.hits.Load())
	}
}

func TestIntegrationTimeout(t *testing.T) {
	h := newHarness(t, 1, testTopology, func(c *Config) { c.IntegrationTimeout = 200 * time.Millisecond })
	h.backends[0].setHandler(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	start := time.Now()
	r := h.do("GET", "/health-check", "")
	if r.status != 504 {
		t.Fatalf("status %d", r.status)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("504 after %v", d)
	}
	if p := r.problem(t); p["detail"] != "the integration timed out" {
		t.Fatalf("problem %v", p)
	}
}

// TestStopUnderLoad stops one of two targets while GETs stream through the edge: none may
// fail, and the edge must mark the target unhealthy within its threshold.
func TestStopUnderLoad(t *testing.T) {
	h := newHarness(t, 2, testTopology)
	g, _ := h.edge.Group("tests")
	tok := "Bearer " + mint(t, idp.MintOptions{})
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
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
				r, err := h.try("GET", "/test", "", "Authorization", tok)
				if err != nil || r.status != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, strconv.Itoa(r.status)+" "+string(r.body)+" "+errString(err))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	eventually(t, 5*time.Second, "traffic on both targets", func() bool {
		return h.backends[0].hits.Load() > 20 && h.backends[1].hits.Load() > 20
	})
	h.backends[0].stop()
	stoppedAt := ok.Load()
	eventually(t, 3*time.Second, "stopped target unhealthy", func() bool {
		return g.Targets()[0].State() == balancer.StateUnhealthy
	})
	eventually(t, 5*time.Second, "more traffic after the stop", func() bool { return ok.Load() > stoppedAt+50 })
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d GETs failed while a target stopped; first: %v", n, n+ok.Load(), firstErr.Load())
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
