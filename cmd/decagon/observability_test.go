package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace endpoint in the test process.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	names map[string]string // span ID → service.name
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	rcv := &otlpReceiver{names: map[string]string{}}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			svc := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					svc = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					rcv.spans = append(rcv.spans, s)
					rcv.names[hex.EncodeToString(s.GetSpanId())] = svc
				}
			}
		}
		rcv.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

// trace returns the spans of one trace.
func (r *otlpReceiver) trace(traceID string) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if hex.EncodeToString(s.GetTraceId()) == traceID {
			out = append(out, s)
		}
	}
	return out
}

// With an OTLP endpoint set, one request through `decagon dev` is one trace: the edge's span,
// the service's as its child, the database call's below that. /metrics answers with the
// series of the edge, the services, the database, the WAF and the targets.
func TestDevTraceAndMetrics(t *testing.T) {
	rcv := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	s := startDev(t, t.TempDir(), "--log-level", "info")
	token := s.token("--user", "alice")

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := s.do("POST", "/test", token, `{"name":"traced"}`, "Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for range 5 {
		s.do("GET", "/test", token, "")
		s.do("GET", "/no/such/"+traceID, "", "")
	}
	s.do("GET", "/test?id=1%27%20OR%201%3D1--", token, "") // the WAF blocks it

	// The batcher exports spans as they end, in any order and in several batches: wait until
	// the three spans the test is about have all arrived, not for a fixed while.
	var spans []*tracepb.Span
	var edgeSpan, svcSpan, dbSpan *tracepb.Span
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		spans = rcv.trace(traceID)
		if edgeSpan, svcSpan, dbSpan = requestSpans(spans); edgeSpan != nil && svcSpan != nil && dbSpan != nil {
			break
		}
		if time.Now().After(deadline) {
			var names []string
			for _, sp := range spans {
				names = append(names, sp.GetName()+"/"+sp.GetKind().String())
			}
			t.Fatalf("trace %s has spans %v after 10 s; want the edge's, the service's and the database's", traceID, names)
		}
	}
	if !bytes.Equal(svcSpan.GetParentSpanId(), edgeSpan.GetSpanId()) {
		t.Fatalf("the service's span is not the edge's child")
	}
	if !bytes.Equal(dbSpan.GetParentSpanId(), svcSpan.GetSpanId()) {
		t.Fatalf("the database span is not the service's child")
	}

	// The service's log line of the request carries the trace ID. It is written when the
	// handler returns, which may be after the client has its answer.
	for deadline := time.Now().Add(10 * time.Second); !logHasTrace(s, traceID); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no request log line with trace_id %s", traceID)
		}
	}

	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`decagon_build_info{`,
		`decagon_edge_requests_total{code_class="2xx",method="POST",route="/test"} 1`,
		`decagon_edge_requests_total{code_class="4xx",method="GET",route="unmatched"}`,
		`decagon_edge_request_duration_seconds_bucket{method="GET",route="/test",le="0.005"}`,
		`decagon_edge_authorizer_results_total{result="allowed"}`,
		`decagon_edge_integration_duration_seconds_count{target_group="tests"}`,
		`decagon_http_requests_total{code_class="2xx",method="GET",route="/test",service="tests"} 5`,
		`decagon_db_query_duration_seconds_count{operation="tests.create",outcome="ok"} 1`,
		`decagon_db_pool_connections{pool="sqlite-write",state="idle"}`,
		`decagon_target_health{state="healthy",target="tests-1",target_group="tests"} 1`,
		`decagon_target_outstanding_requests{target="uploads-2",target_group="uploads"}`,
		`decagon_waf_requests_total{action="blocked"} 1`,
		`decagon_waf_matches_total{action="BLOCK",rule_group="crs"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), traceID) || strings.Contains(string(body), "/no/such") {
		t.Error("a raw path became a label value")
	}
}

// requestSpans picks out of a trace the spans of the traced POST /test: the edge's (child of
// the client's span 00f067aa0ba902b7), the service's and the database call's; nil for any not
// there yet.
func requestSpans(spans []*tracepb.Span) (edge, svc, db *tracepb.Span) {
	for _, sp := range spans {
		switch {
		case sp.GetName() == "POST /test" && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER && hex.EncodeToString(sp.GetParentSpanId()) == "00f067aa0ba902b7":
			edge = sp
		case sp.GetName() == "POST /test" && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER:
			svc = sp
		case sp.GetName() == "db tests.create":
			db = sp
		}
	}
	return edge, svc, db
}

// logHasTrace reports whether a service logged its request line with the trace ID.
func logHasTrace(s *stack, traceID string) bool {
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["trace_id"] == traceID && m["path"] == "/test" {
			return true
		}
	}
	return false
}

// decagon serve: /metrics on --admin-addr (not on the service's address), and EMF lines on
// stdout with --cloudwatch-emf.
func TestServeAdminAndEMF(t *testing.T) {
	admin := freeAddr(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--drain", "0",
			"--auth-issuer", "https://issuer.example", "--auth-client-id", "c", "--admin-addr", admin, "--cloudwatch-emf", "tests"}, stdout, stderr)
	}()
	get := func(url string) (int, string) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(url)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp.StatusCode, string(b)
			}
			select {
			case err := <-done:
				t.Fatalf("serve exited: %v\n%s", err, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v\n%s", url, err, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if code, _ := get("http://" + addr + "/health-check"); code != 200 {
		t.Fatalf("health-check: %d", code)
	}
	if code, _ := get("http://" + addr + "/test"); code != 401 {
		t.Fatalf("GET /test without a token: %d", code)
	}
	if code, _ := get("http://" + addr + "/metrics"); code != 404 {
		t.Fatalf("/metrics on the service's address: %d, want 404", code)
	}
	code, body := get("http://" + admin + "/metrics")
	if code != 200 || !strings.Contains(body, `decagon_http_requests_total{code_class="4xx",method="GET",route="/test",service="tests"} 1`) ||
		!strings.Contains(body, `decagon_db_pool_max_connections{pool="sqlite-write"} 1`) {
		t.Fatalf("admin /metrics: %d\n%s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	// The last counts are flushed at shutdown.
	var line map[string]any
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatalf("EMF line %q: %v", stdout.String(), err)
	}
	if line["Service"] != "tests" || line["AuthFailures"] != float64(1) || line["Requests"].(float64) < 3 || line["_aws"] == nil {
		t.Fatalf("EMF line %v", line)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// decagon edge: /metrics on --admin-addr with the target groups' health and the WAF's counts;
// the edge itself routes no /metrics.
func TestEdgeAdminMetrics(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	t.Cleanup(backend.Close)
	admin, addr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"edge", "--addr", addr, "--admin-addr", admin, "--access-log", "",
			"--target", "tests=" + strings.TrimPrefix(backend.URL, "http://"),
			"--auth-issuer", "https://issuer.example", "--auth-client-id", "c"}, io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("edge: %v\n%s", err, stderr.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `decagon_target_health{state="healthy",target="tests-1",target_group="tests"} 1`) {
				if !strings.Contains(string(b), `decagon_waf_requests_total{action="allowed"}`) {
					t.Fatalf("no WAF series:\n%s", b)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no healthy tests-1 on the admin address: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the edge: %d, want 404", resp.StatusCode)
	}
}
