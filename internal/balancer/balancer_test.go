package balancer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// target is a loopback server whose /health-check answers a settable status.
type target struct {
	*httptest.Server
	status   atomic.Int64
	checks   atomic.Int64
	streamed atomic.Int64 // requests whose whole body was "streamed"
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	tg.status.Store(200)
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health-check" {
			tg.checks.Add(1)
			w.WriteHeader(int(tg.status.Load()))
			return
		}
		if b, _ := io.ReadAll(r.Body); string(b) == "streamed" {
			tg.streamed.Add(1)
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) addr() string { return tg.Listener.Addr().String() }

func newGroup(t *testing.T, hc topology.HealthCheck) *Group {
	t.Helper()
	g, err := New(Config{Name: "tests", HealthCheck: hc, DeregistrationDelay: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

func waitState(t *testing.T, g *Group, id string, want State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		ch := g.Changed()
		for _, tg := range g.Targets() {
			if tg.ID == id && tg.State() == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not become %s", id, want)
		case <-ch:
		}
	}
}

// check is a health check of /health-check expecting 200, as topology.Parse makes them.
func check(interval, timeout time.Duration, healthy, unhealthy int) topology.HealthCheck {
	codes, err := topology.ParseStatusCodes("200")
	if err != nil {
		panic(err)
	}
	return topology.HealthCheck{Path: "/health-check", Interval: interval, Timeout: timeout,
		HealthyThreshold: healthy, UnhealthyThreshold: unhealthy, SuccessCodes: "200", Success: codes}
}

var fast = check(50*time.Millisecond, 50*time.Millisecond, 2, 2)

func TestStateTransitions(t *testing.T) {
	g := newGroup(t, fast)
	tg := newTarget(t)
	if err := g.Register("t1", tg.addr()); err != nil {
		t.Fatal(err)
	}
	if s := g.Targets()[0].State(); s != StateInitial {
		t.Fatalf("new target is %s", s)
	}
	if _, err := g.Pick(nil); !errors.Is(err, ErrNoHealthyTarget) {
		t.Fatalf("initial target picked: %v", err)
	}
	waitState(t, g, "t1", StateHealthy)
	if n := tg.checks.Load(); n < 2 {
		t.Fatalf("healthy after %d checks, threshold 2", n)
	}
	tg.status.Store(503)
	waitState(t, g, "t1", StateUnhealthy)
	tg.status.Store(200)
	waitState(t, g, "t1", StateHealthy)

	// Deregistered: draining, then gone once idle.
	picked, err := g.Pick(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Deregister("t1") {
		t.Fatal("deregister reported unknown")
	}
	if s := g.Targets()[0].State(); s != StateDraining {
		t.Fatalf("deregistered target is %s", s)
	}
	if _, err := g.Pick(nil); !errors.Is(err, ErrNoHealthyTarget) {
		t.Fatal("a draining target was picked")
	}
	g.Release(picked)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		ch := g.Changed() // before looking, so a removal in between still wakes the wait
		if len(g.Targets()) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("drained target not removed")
		case <-ch:
		}
	}
}

// TestSuccessCodes: a check passes on the codes topology parsed, and only on them.
func TestSuccessCodes(t *testing.T) {
	hc := fast
	var err error
	if hc.Success, err = topology.ParseStatusCodes("200-204,302"); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, hc)
	tg := newTarget(t)
	tg.status.Store(302)
	_ = g.Register("t1", tg.addr())
	waitState(t, g, "t1", StateHealthy)
	tg.status.Store(205)
	waitState(t, g, "t1", StateUnhealthy)
}

// TestNewRefusesUnprovisionedChecks: the group fills in no default; a health check that
// topology did not make is an error.
func TestNewRefusesUnprovisionedChecks(t *testing.T) {
	for name, hc := range map[string]topology.HealthCheck{
		"zero":               {},
		"no success codes":   func() topology.HealthCheck { h := fast; h.Success = topology.StatusCodes{}; return h }(),
		"relative path":      func() topology.HealthCheck { h := fast; h.Path = "health"; return h }(),
		"timeout > interval": func() topology.HealthCheck { h := fast; h.Timeout = time.Second; return h }(),
		"no threshold":       func() topology.HealthCheck { h := fast; h.HealthyThreshold = 0; return h }(),
	} {
		if _, err := New(Config{Name: "x", HealthCheck: hc}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPickLeastOutstanding(t *testing.T) {
	g := newGroup(t, fast)
	a, b, c := newTarget(t), newTarget(t), newTarget(t)
	for id, tg := range map[string]*target{"a": a, "b": b, "c": c} {
		if err := g.Register(id, tg.addr()); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		waitState(t, g, id, StateHealthy)
	}
	// Ties rotate: three picks with nothing outstanding hit three different targets.
	seen := map[string]int{}
	var held []*Target
	for range 3 {
		tg, err := g.Pick(nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[tg.ID]++
		held = append(held, tg)
	}
	if len(seen) != 3 {
		t.Fatalf("three picks with equal load went to %v", seen)
	}
	// Releasing one makes it the only least-loaded target.
	g.Release(held[1])
	for range 3 {
		tg, _ := g.Pick(nil)
		if tg != held[1] {
			t.Fatalf("picked %s with %d outstanding, want %s", tg.ID, tg.Outstanding(), held[1].ID)
		}
		g.Release(tg)
	}
	// except skips a target even when it is the least loaded.
	if tg, _ := g.Pick(held[1]); tg == held[1] {
		t.Fatal("Pick returned the excluded target")
	}
}

// TestRoundTripRetriesNeverSent: a request whose target refuses the connection never reached
// it, so it goes to another target whatever its method — POSTs with a body included (issue
// 11, item 5: a stopped replica failed POSTs with 502 until its checks took it out).
func TestRoundTripRetriesNeverSent(t *testing.T) {
	hc := check(time.Hour, time.Second, 1, 2)
	g := newGroup(t, hc)
	dead, live := newTarget(t), newTarget(t)
	_ = g.Register("dead", dead.addr())
	_ = g.Register("live", live.addr())
	waitState(t, g, "dead", StateHealthy)
	waitState(t, g, "live", StateHealthy)
	dead.Close() // the listener is gone: connections are refused
	for _, method := range []string{"GET", "DELETE", "POST", "PATCH", "PUT"} {
		for i := range 4 { // ties rotate: some of these pick the dead target first
			req, _ := http.NewRequest(method, "http://tests/x", strings.NewReader(`{"name":"x"}`))
			tr := &Trace{}
			req = req.WithContext(WithTrace(req.Context(), tr))
			resp, err := Groups{"tests": g}.RoundTrip(req)
			if err != nil {
				t.Fatalf("%s %d: %v", method, i, err)
			}
			resp.Body.Close()
			if tr.Target != live.addr() {
				t.Fatalf("%s %d served by %s", method, i, tr.Target)
			}
		}
	}
	// A streamed body (no GetBody) that the refused attempt never read goes as it is.
	for i := range 4 {
		body := &closeCounter{Reader: strings.NewReader("streamed")}
		req, _ := http.NewRequest("POST", "http://tests/x", body)
		if req.GetBody != nil {
			t.Fatal("the test body must not be replayable")
		}
		resp, err := g.RoundTrip(req)
		if err != nil {
			t.Fatalf("streamed POST %d: %v", i, err)
		}
		resp.Body.Close()
		if body.closes.Load() == 0 {
			t.Fatalf("streamed POST %d: body never closed", i)
		}
	}
	if n := live.streamed.Load(); n != 4 {
		t.Fatalf("live target got %d whole streamed bodies, want 4", n)
	}
	for _, tg := range g.Targets() {
		if tg.Outstanding() != 0 {
			t.Fatalf("%s has %d outstanding after all bodies closed", tg.ID, tg.Outstanding())
		}
	}
}

// closeCounter is a request body that cannot be had again and counts its Close calls.
type closeCounter struct {
	io.Reader
	closes atomic.Int64
}

func (c *closeCounter) Close() error { c.closes.Add(1); return nil }

// resetListener accepts connections and resets each at once (RST, not FIN), as a process
// whose listener closes with connections still in its backlog does.
func resetListener(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
}

// TestRoundTripResetBeforeWrite: a connection reset before one byte of the request was
// written means the target never saw the request: a POST goes to another target. A POST
// whose bytes were written before the target went away is not sent again.
func TestRoundTripResetBeforeWrite(t *testing.T) {
	// The dial waits for the target's reset before handing the connection to the transport,
	// so the request is surely written to a connection that is already dead.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
		if err != nil || addr != resetAddr.Load() {
			return c, err
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(make([]byte, 1)) // returns on the reset
		_ = c.SetReadDeadline(time.Time{})
		return c, nil
	}
	hc := check(time.Hour, time.Second, 1, 2)
	g, err := New(Config{Name: "tests", HealthCheck: hc, Transport: newTransport(dial), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	resetting, live := newTarget(t), newTarget(t)
	addr := resetting.addr()
	_ = g.Register("resetting", addr)
	_ = g.Register("live", live.addr())
	waitState(t, g, "resetting", StateHealthy)
	waitState(t, g, "live", StateHealthy)
	resetting.Close()
	resetListener(t, addr) // same address, still "healthy": the next check is an hour away
	resetAddr.Store(addr)
	t.Cleanup(func() { resetAddr.Store("") })
	for i := range 6 {
		req, _ := http.NewRequest("POST", "http://tests/x", strings.NewReader(`{"name":"x"}`))
		tr := &Trace{}
		resp, err := g.RoundTrip(req.WithContext(WithTrace(req.Context(), tr)))
		if err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
		resp.Body.Close()
		if tr.Target != live.addr() {
			t.Fatalf("POST %d served by %s", i, tr.Target)
		}
	}
}

// resetAddr is the address whose dials TestRoundTripResetBeforeWrite delays until reset.
var resetAddr atomic.Value

func init() { resetAddr.Store("") }

// TestRoundTripNoRetryOnceSent: a POST the target read (and then dropped the connection
// without answering) may have been acted on: it is not sent again.
func TestRoundTripNoRetryOnceSent(t *testing.T) {
	hc := check(time.Hour, time.Second, 1, 2)
	g := newGroup(t, hc)
	var posts atomic.Int64
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health-check" {
			return
		}
		posts.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	t.Cleanup(dropper.Close)
	_ = g.Register("dropper", dropper.Listener.Addr().String())
	waitState(t, g, "dropper", StateHealthy)
	req, _ := http.NewRequest("POST", "http://tests/x", strings.NewReader(`{"name":"x"}`))
	if resp, err := g.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatal("a POST dropped by its target succeeded")
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("the target saw the POST %d times, want once", n)
	}
}

// TestForwardRetriesSafeRequestsWhoseTargetDied: a target that takes a request and dies before
// answering (a task killed mid-request) costs a GET nothing — another target answers it — but a
// DELETE is not sent twice.
func TestForwardRetriesSafeRequestsWhoseTargetDied(t *testing.T) {
	g := newGroup(t, check(time.Hour, time.Second, 1, 2))
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health-check" {
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // gone before the status line, as a killed process
		}
	}))
	t.Cleanup(dying.Close)
	live := newTarget(t)
	_ = g.Register("dying", dying.Listener.Addr().String())
	_ = g.Register("live", live.addr())
	waitState(t, g, "dying", StateHealthy)
	waitState(t, g, "live", StateHealthy)
	send := func(method string) (*httptest.ResponseRecorder, *Trace, error) {
		w, tr := httptest.NewRecorder(), &Trace{}
		err := g.Forward(w, &Outbound{Method: method, Path: "/x", Header: http.Header{}, Deadline: time.Now().Add(5 * time.Second)}, tr)
		return w, tr, err
	}
	retried := 0
	for i := range 10 {
		w, tr, err := send(http.MethodGet)
		if err != nil || w.Code != 204 {
			t.Fatalf("GET %d: %v, status %d", i, err, w.Code)
		}
		if tr.Attempts == 2 {
			retried++
		}
	}
	if retried == 0 {
		t.Fatal("no GET reached the dying target: the test proves nothing")
	}
	failed := 0
	for range 10 {
		if _, _, err := send(http.MethodDelete); err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("every DELETE succeeded: one that reached the dying target was sent again")
	}
}
