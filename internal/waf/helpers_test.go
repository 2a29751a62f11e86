package waf

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/web"
)

// shippedWAF is decagon.yaml's waf section as the edge gets it: loaded and validated by
// topology, exclusions included. Every test that claims "this passes" runs with it.
func shippedWAF(t testing.TB) topology.WAF {
	t.Helper()
	topo, err := topology.Load("../../decagon.yaml")
	if err != nil {
		t.Fatalf("load decagon.yaml: %v", err)
	}
	return topo.WAF
}

// shipped is decagon.yaml's waf section (as shippedWAF) changed by each f: the configuration
// of every test that claims a request passes, so that the shipped exclusions are the ones
// tested.
func shipped(fs ...func(w *topology.WAF)) Config {
	shippedOnce.Do(func() {
		topo, err := topology.Load("../../decagon.yaml")
		if err != nil {
			panic(fmt.Sprintf("load decagon.yaml: %v", err))
		}
		shippedSettings = topo.WAF
	})
	w := shippedSettings
	w.Exclusions = slices.Clone(w.Exclusions)
	for _, f := range fs {
		f(&w)
	}
	return Config{WAF: w}
}

var (
	shippedOnce     sync.Once
	shippedSettings topology.WAF
)

// defaults is topology's default WAF (no exclusions) changed by each f: for the CRS regression
// corpus, which tests CRS as it is.
func defaults(fs ...func(w *topology.WAF)) Config {
	w := topology.DefaultWAF()
	for _, f := range fs {
		f(&w)
	}
	return Config{WAF: w}
}

// logBuffer collects log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the WAF's log records (msg "waf") decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == "waf" {
			out = append(out, m)
		}
	}
	return out
}

// backend is the handler behind the WAF in tests: it reads the whole body, remembering its
// size and SHA-256, and counts requests.
type backend struct {
	mu     sync.Mutex
	hits   int
	size   int64
	digest []byte
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	b.mu.Lock()
	b.hits++
	b.size, b.digest = n, h.Sum(nil)
	b.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *backend) state() (hits int, size int64, digest []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits, b.size, b.digest
}

// stack is a WAF in front of a backend, behind the request ID middleware as the edge has it.
type stack struct {
	waf     *WAF
	backend *backend
	logs    *logBuffer
	handler http.Handler
}

func newStack(t *testing.T, cfg Config) *stack {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	w, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	be := &backend{}
	return &stack{waf: w, backend: be, logs: logs, handler: web.RequestIDs(logger, w.Middleware(be))}
}

// request is one request to send through a stack.
type request struct {
	method, target, contentType, body string
	remote                            string
	header                            map[string]string
}

func (s *stack) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, rq.target, strings.NewReader(rq.body))
	if rq.body == "" {
		r.Body, r.ContentLength = http.NoBody, 0
	} else {
		r.Header.Set("Content-Length", strconv.Itoa(len(rq.body))) // as net/http's server leaves it
	}
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r.Header.Set("Accept", "application/json")
	if rq.contentType != "" {
		r.Header.Set("Content-Type", rq.contentType)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, r)
	return rec
}

// sample is every n-th of xs, for the tests that send whole corpora, under the race detector.
func sample[T any](xs []T, n int) []T {
	var out []T
	for i := 0; i < len(xs); i += n {
		out = append(out, xs[i])
	}
	return out
}
