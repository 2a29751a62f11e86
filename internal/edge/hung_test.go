package edge

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/idp"
)

// TestHungTarget is the fault suite's hung replica (issue 11): one of two targets goes on
// accepting connections but never answers again, while requests stream through the edge. The
// requests caught on it end at the integration timeout as 504 problems; its health checks time
// out, so the balancer marks it unhealthy within its unhealthy threshold; from then on every
// request goes to the healthy target and none fails. GETs take the balancer's pooled forward,
// POSTs with a body the reverse proxy: both paths must time out.
func TestHungTarget(t *testing.T) {
	for _, c := range []struct {
		method, body string
		header       []string
	}{
		{"GET", "", nil},
		{"POST", `{"name":"x"}`, []string{"Content-Type", "application/json"}},
	} {
		t.Run(c.method, func(t *testing.T) { hungTarget(t, c.method, c.body, c.header) })
	}
}

func hungTarget(t *testing.T, method, body string, header []string) {
	const timeout = 300 * time.Millisecond // the integration timeout, short for the test
	healthy := newBackend(t, "a")
	hung := newHangingBackend(t, "b")
	h := newHarness(t, 0, testTopology, func(c *Config) {
		c.IntegrationTimeout = timeout
		c.Targets = map[string][]string{"tests": {healthy.addr, hung.addr}}
	})
	h.backends = []*backend{healthy, hung.backend}
	g, _ := h.edge.Group("tests")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.WaitHealthy(ctx, 2); err != nil {
		t.Fatal(err)
	}
	check := parseTopology(t, testTopology).Services[0].HealthCheck.ForLocal()
	tok := "Bearer " + mint(t, idp.MintOptions{})

	type result struct {
		start, end time.Time
		status     int
		resp       response
		err        error
	}
	var (
		mu      sync.Mutex
		results []result
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		okAfter atomic.Int64 // 200s of requests started after the target was seen unhealthy
		outAt   atomic.Pointer[time.Time]
	)
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
				start := time.Now()
				r, err := h.try(method, "/test", body, append([]string{"Authorization", tok}, header...)...)
				res := result{start: start, end: time.Now(), status: r.status, resp: r, err: err}
				if at := outAt.Load(); at != nil && start.After(*at) && err == nil && r.status == 200 {
					okAfter.Add(1)
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}
		}()
	}
	eventually(t, 5*time.Second, "traffic on both targets", func() bool {
		return healthy.hits.Load() > 20 && hung.hits.Load() > 20
	})

	hungAt := time.Now()
	hung.hang()
	target := g.Targets()[1]
	if target.Addr != hung.addr {
		t.Fatalf("target order: %s is not the hung %s", target.Addr, hung.addr)
	}
	// Each failed check waits its timeout; UnhealthyThreshold of them in a row, an interval
	// apart, take it out. The slack is for a loaded machine.
	within := time.Duration(check.UnhealthyThreshold)*check.Interval + check.Timeout + 2*time.Second
	eventually(t, within, "the hung target marked unhealthy", func() bool {
		return target.State() == balancer.StateUnhealthy
	})
	seen := time.Now()
	outAt.Store(&seen)
	t.Logf("hung target unhealthy %v after it hung (threshold %d × interval %v, timeout %v)",
		seen.Sub(hungAt).Round(time.Millisecond), check.UnhealthyThreshold, check.Interval, check.Timeout)
	eventually(t, 10*time.Second, "200 requests on the healthy target after the hung one is out", func() bool {
		return okAfter.Load() >= 200
	})
	close(stop)
	wg.Wait()

	var timedOut, after int
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("request started %v after the hang: %v", r.start.Sub(hungAt), r.err)
		}
		if r.start.After(seen) {
			after++
			if r.status != 200 {
				t.Errorf("request started %v after the target was out: %d %s", r.start.Sub(seen), r.status, r.resp.body)
			}
			continue
		}
		switch r.status {
		case 200:
		case 504:
			timedOut++
			if p := r.resp.problem(t); p["status"] != 504.0 || p["detail"] != "the integration timed out" {
				t.Errorf("504 problem %v", p)
			}
			if d := r.end.Sub(r.start); d < timeout || r.end.Before(hungAt) {
				t.Errorf("504 after %v for a request started %v after the hang; want the integration timeout (%v) on the hung target", d, r.start.Sub(hungAt), timeout)
			}
		default:
			t.Errorf("request started %v after the hang: %d %s; want 200, or 504 when caught on the hung target", r.start.Sub(hungAt), r.status, r.resp.body)
		}
	}
	if timedOut == 0 {
		t.Error("no request was caught on the hung target: the test did not exercise the timeout")
	}
	t.Logf("%d requests: %d caught on the hung target (504), %d after it was out, all 200", len(results), timedOut, after)
}

// hangingBackend is a backend whose connections can all stop answering at once, as a process
// stuck in a deadlock does: the kernel still accepts connections, and what arrives on them,
// old or new, is read and never answered.
type hangingBackend struct {
	*backend
	hung   atomic.Bool
	closed chan struct{}
	once   sync.Once
}

func newHangingBackend(t testing.TB, id string) *hangingBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hb := &hangingBackend{backend: &backend{t: t, id: id, addr: ln.Addr().String()}, closed: make(chan struct{})}
	hb.serve(&hangingListener{Listener: ln, hb: hb})
	hb.srv.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	t.Cleanup(func() {
		hb.once.Do(func() { close(hb.closed) }) // release the reads held
		_ = hb.srv.Close()
	})
	return hb
}

// hang makes every connection, open or still to come, stop answering.
func (hb *hangingBackend) hang() { hb.hung.Store(true) }

type hangingListener struct {
	net.Listener
	hb *hangingBackend
}

func (l *hangingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &hangingConn{Conn: c, hb: l.hb}, nil
}

// hangingConn swallows what it reads once its backend hangs, and blocks until the test ends or
// the connection is closed, so the server never sees a request to answer.
type hangingConn struct {
	net.Conn
	hb        *hangingBackend
	closeOnce sync.Once
	done      chan struct{}
	mu        sync.Mutex
}

func (c *hangingConn) doneCh() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *hangingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.hb.hung.Load() {
		select {
		case <-c.doneCh():
		case <-c.hb.closed:
		}
		return 0, net.ErrClosed
	}
	return n, err
}

func (c *hangingConn) Close() error {
	c.closeOnce.Do(func() { close(c.doneCh()) })
	return c.Conn.Close()
}
