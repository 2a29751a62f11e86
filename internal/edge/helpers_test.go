package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/topology"
)

// The identity provider of the tests: real RSA keys in a temporary data dir, its JWKS served
// on loopback, created once per test binary.
var (
	idpOnce     sync.Once
	idpProvider *idp.Provider
	idpServer   *httptest.Server
	idpIssuer   string
	idpDir      string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if idpServer != nil {
		idpServer.Close()
	}
	if idpDir != "" {
		_ = os.RemoveAll(idpDir)
	}
	os.Exit(code)
}

func testIDP(t testing.TB) (*idp.Provider, string) {
	t.Helper()
	idpOnce.Do(func() {
		var err error
		if idpDir, err = os.MkdirTemp("", "edge-idp-"); err != nil {
			panic(err)
		}
		if idpProvider, err = idp.Open(idpDir, idp.Config{Logger: slog.New(slog.DiscardHandler)}); err != nil {
			panic(err)
		}
		idpServer = httptest.NewServer(idpProvider.Handler())
		idpIssuer = idpServer.URL + idp.PathPrefix
		if err := idpProvider.SetIssuer(idpIssuer); err != nil {
			panic(err)
		}
	})
	return idpProvider, idpIssuer
}

// countingVerifier counts the Verify calls that reach the real verifier.
type countingVerifier struct {
	v     *auth.Verifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, token string, req auth.Requirement) (*auth.Claims, error) {
	c.calls.Add(1)
	return c.v.Verify(ctx, token, req)
}

func newVerifier(t testing.TB) *countingVerifier {
	t.Helper()
	p, iss := testIDP(t)
	v, err := auth.NewVerifier(auth.Config{Issuer: iss, ClientIDs: []string{p.ClientID()}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &countingVerifier{v: v}
}

// mint returns a token of the test provider.
func mint(t testing.TB, opts idp.MintOptions) string {
	t.Helper()
	p, iss := testIDP(t)
	opts.Issuer = iss
	if opts.User == "" {
		opts.User = "alice"
	}
	tok, err := p.Mint(opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testTopology is decagon.yaml for the tests: fast local health checks, generous throttling.
const testTopology = `
stage:
  name: Test
  throttling: {rateLimit: 10000, burstLimit: 5000}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2}
`

func parseTopology(t testing.TB, yaml string) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	return topo
}

// backend is a target: a real http.Server on loopback that echoes what it received.
type backend struct {
	t       testing.TB
	id      string
	addr    string
	srv     *http.Server
	health  atomic.Int64 // status of /health-check; 200 when 0
	hits    atomic.Int64
	handler atomic.Pointer[http.HandlerFunc] // replaces the echo when set
}

// echo is what a backend answers.
type echo struct {
	Backend string              `json:"backend"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	RawPath string              `json:"raw_path"`
	Query   string              `json:"query"`
	Host    string              `json:"host"`
	Header  map[string][]string `json:"header"`
	Body    string              `json:"body"`
}

func newBackend(t testing.TB, id string) *backend {
	t.Helper()
	b := &backend{t: t, id: id}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.serve(ln)
	t.Cleanup(b.stop)
	return b
}

func (b *backend) serve(ln net.Listener) {
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
}

func (b *backend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health-check" && r.Header.Get("User-Agent") == "ELB-HealthChecker/2.0" {
		code := int(b.health.Load())
		if code == 0 {
			code = 200
		}
		w.WriteHeader(code)
		return
	}
	b.hits.Add(1)
	if h := b.handler.Load(); h != nil {
		(*h)(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echo{Backend: b.id, Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath,
		Query: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: string(body)})
}

func (b *backend) setHandler(h http.HandlerFunc) { b.handler.Store(&h) }

// stop shuts the server down gracefully: in-flight requests finish, the listener closes.
func (b *backend) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
}

// restart listens again on the same address.
func (b *backend) restart() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("relisten %s: %v", b.addr, err)
	}
	b.serve(ln)
}

// harness is an Edge on loopback in front of backends.
type harness struct {
	t        testing.TB
	edge     *Edge
	url      string
	backends []*backend
	verifier *countingVerifier
	logs     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness starts n backends for the tests service and an edge before them, and waits until
// every backend is healthy. opts adjust the config.
func newHarness(t testing.TB, n int, topo string, opts ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, verifier: newVerifier(t), logs: &syncBuffer{}}
	var addrs []string
	for i := range n {
		b := newBackend(t, string(rune('a'+i)))
		h.backends = append(h.backends, b)
		addrs = append(addrs, b.addr)
	}
	cfg := Config{
		Topology:       parseTopology(t, topo),
		Verifier:       h.verifier,
		Targets:        map[string][]string{"tests": addrs},
		AccessLog:      h.logs,
		AccessLogFlush: -1,
		Logger:         slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.edge = e
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(e, cfg.Logger)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); e.Close() })
	h.url = "http://" + ln.Addr().String()
	if n > 0 {
		h.waitHealthy(n)
	}
	return h
}

// waitHealthy waits up to 5 s until n targets of the tests group are healthy.
func (h *harness) waitHealthy(n int) {
	h.t.Helper()
	g, _ := h.edge.Group("tests")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.WaitHealthy(ctx, n); err != nil {
		h.t.Fatal(err)
	}
}

// response is a received response, body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) echo(t testing.TB) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("status %d body %q: %v", r.status, r.body, err)
	}
	return e
}

func (r response) problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d content type %q body %q", r.status, ct, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("problem %q: %v", r.body, err)
	}
	return m
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// do sends a request; headers alternate name and value.
func (h *harness) do(method, path, body string, headers ...string) response {
	h.t.Helper()
	resp, err := h.try(method, path, body, headers...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func (h *harness) try(method, path, body string, headers ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		return response{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// eventually polls cond every 10 ms until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLines returns the access log lines written so far, decoded.
func (h *harness) logLines() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			h.t.Fatalf("access log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// logFor returns the access log line of a request ID.
func (h *harness) logFor(id string) map[string]any {
	h.t.Helper()
	var found map[string]any
	eventually(h.t, 2*time.Second, "access log line for "+id, func() bool {
		for _, m := range h.logLines() {
			if m["requestId"] == id {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

const uuid1 = "0b5f5d2e-7c1a-4b1e-9d3a-2f4e6a8b0c1d"
