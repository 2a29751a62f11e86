package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$`)

// hops starts two in-process servers: front forwards every request to back through a client
// with Transport, as the edge forwards to a service; back reports the trace ID it sees and
// logs a line with its request's context.
type hops struct {
	front, back *httptest.Server
	seen        chan string // back's trace IDs
	logs        *bytes.Buffer
}

func startHops(t *testing.T) *hops {
	t.Helper()
	h := &hops{seen: make(chan string, 10), logs: &bytes.Buffer{}}
	logger := slog.New(LogHandler(slog.NewJSONHandler(h.logs, nil)))
	route := func(*http.Request) string { return "/test/{test_id}" }
	h.back = httptest.NewServer(Middleware(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.seen <- TraceID(r.Context())
		_, span := Tracer().Start(r.Context(), "db tests.get")
		span.End()
		logger.InfoContext(r.Context(), "served")
	})))
	t.Cleanup(h.back.Close)
	client := &http.Client{Transport: Transport(nil), Timeout: 5 * time.Second}
	h.front = httptest.NewServer(Middleware(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", h.back.URL+r.URL.Path, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		_, _ = io.WriteString(w, TraceID(r.Context()))
	})))
	t.Cleanup(h.front.Close)
	return h
}

func (h *hops) get(t *testing.T, traceparent string) (frontID, backID string) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.front.URL+"/test/1", nil)
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b), <-h.seen
}

func setup(t *testing.T, cfg Config) {
	t.Helper()
	shutdown, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
}

func TestNoopPropagates(t *testing.T) {
	setup(t, Config{ServiceName: "test", Getenv: func(string) string { return "" }})
	if Enabled() {
		t.Fatal("enabled without an endpoint")
	}
	h := startHops(t)

	// No traceparent: the first hop makes a trace ID, the second keeps it.
	front, back := h.get(t, "")
	if len(front) != 32 || front != back || front == strings.Repeat("0", 32) {
		t.Fatalf("front %q back %q", front, back)
	}
	// A caller's traceparent is continued.
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	front, back = h.get(t, "00-"+tid+"-00f067aa0ba902b7-01")
	if front != tid || back != tid {
		t.Fatalf("front %q back %q, want %s", front, back, tid)
	}
	// Malformed traceparent: ignored, a new trace starts.
	front, back = h.get(t, "00-zzzz-00f067aa0ba902b7-01")
	if len(front) != 32 || front != back || front == tid {
		t.Fatalf("malformed: front %q back %q", front, back)
	}
	// The log line carries the trace ID.
	var line map[string]any
	last := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	if err := json.Unmarshal([]byte(last[len(last)-1]), &line); err != nil {
		t.Fatal(err)
	}
	if line["trace_id"] != front || line["span_id"] == "" {
		t.Fatalf("log line %v, want trace_id %s", line, front)
	}
}

func TestExportedTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	shutdown, err := Setup(context.Background(), Config{ServiceName: "test", Exporter: keepSpans{exp}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	if !Enabled() {
		t.Fatal("not enabled with an exporter")
	}
	h := startHops(t)
	front, back := h.get(t, "")
	if front == "" || front != back {
		t.Fatalf("front %q back %q", front, back)
	}
	// The batcher exports on shutdown.
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 4 {
		// front server, client, back server, db: one trace.
		t.Fatalf("%d spans, want 4: %v", len(spans), spans)
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != front {
			t.Fatalf("span %s in trace %s, want %s", s.Name, s.SpanContext.TraceID(), front)
		}
		byName[s.Name+"/"+s.SpanKind.String()] = s
	}
	server := byName["GET /test/{test_id}/server"]
	client := byName["GET/client"]
	db := byName["db tests.get/internal"]
	if !client.Parent.IsValid() || client.Parent.SpanID() == (trace.SpanID{}) {
		t.Fatalf("client span has no parent: %+v", byName)
	}
	var backServer tracetest.SpanStub
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer && s.Parent.SpanID() == client.SpanContext.SpanID() {
			backServer = s
		}
	}
	if !backServer.SpanContext.IsValid() || !backServer.Parent.IsRemote() {
		t.Fatalf("back server span is not the client's remote child: %+v", spans)
	}
	if db.Parent.SpanID() != backServer.SpanContext.SpanID() {
		t.Fatalf("db span's parent %s, want the back server span %s", db.Parent.SpanID(), backServer.SpanContext.SpanID())
	}
	if !server.SpanContext.IsValid() || server.Attributes == nil {
		t.Fatalf("server span not named by its route: %+v", byName)
	}
}

// The middleware writes the span's traceparent into the request header, for proxies that
// forward the header as it is.
func TestMiddlewareSetsHeader(t *testing.T) {
	setup(t, Config{Getenv: func(string) string { return "" }})
	var got string
	h := Middleware(func(*http.Request) string { return "" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Traceparent")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !traceparentRE.MatchString(got) {
		t.Fatalf("traceparent %q", got)
	}
}

// Without an exporter, a request without trace headers gets new IDs in its context and exactly
// the traceparent the propagator would inject for them; a caller's traceparent or baggage, or
// another global propagator, goes through the propagator.
func TestMiddlewareNoopHeaders(t *testing.T) {
	setup(t, Config{Getenv: func(string) string { return "" }})
	serve := func(header http.Header) (trace.SpanContext, http.Header) {
		var sc trace.SpanContext
		var seen http.Header
		h := Middleware(func(*http.Request) string { return "" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sc, seen = trace.SpanContextFromContext(r.Context()), r.Header.Clone()
		}))
		r := httptest.NewRequest("GET", "/", nil)
		maps.Copy(r.Header, header)
		h.ServeHTTP(httptest.NewRecorder(), r)
		return sc, seen
	}

	sc, seen := serve(nil)
	want := http.Header{}
	otel.GetTextMapPropagator().Inject(trace.ContextWithRemoteSpanContext(context.Background(), sc), propagation.HeaderCarrier(want))
	if !sc.IsValid() || sc.IsSampled() || !reflect.DeepEqual(seen, want) {
		t.Fatalf("span context %v, header %v; want a new unsampled one and %v", sc, seen, want)
	}

	const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if sc, seen = serve(http.Header{"Traceparent": {caller}, "Baggage": {"k=v"}}); sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || seen.Get("Traceparent") != caller {
		t.Fatalf("caller's trace: span context %v, header %v", sc, seen)
	}
	if sc, seen = serve(http.Header{"Baggage": {"k=v"}}); !sc.IsValid() || seen.Get("Baggage") != "k=v" || !traceparentRE.MatchString(seen.Get("Traceparent")) {
		t.Fatalf("baggage only: span context %v, header %v", sc, seen)
	}

	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(w3c) })
	if sc, seen = serve(nil); !sc.IsValid() || !traceparentRE.MatchString(seen.Get("Traceparent")) {
		t.Fatalf("another propagator: span context %v, header %v", sc, seen)
	}
}

func BenchmarkMiddlewareNoop(b *testing.B) {
	shutdown, _ := Setup(context.Background(), Config{Getenv: func(string) string { return "" }})
	defer shutdown(context.Background())
	h := Middleware(func(*http.Request) string { return "" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		req.Header.Del("Traceparent")
		h.ServeHTTP(w, req)
	}
}

// keepSpans keeps the spans past Shutdown, which the in-memory exporter clears.
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

// TestLogHandlerIDs: the IDs a line carries are the span context's, and the caller's record
// keeps its own attributes.
func TestLogHandlerIDs(t *testing.T) {
	var out bytes.Buffer
	h := LogHandler(slog.NewJSONHandler(&out, nil))
	sc := newSpanContext()
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), sc)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("a", "1"), slog.String("b", "2"), slog.String("c", "3"), slog.String("d", "4"),
		slog.String("e", "5"), slog.String("f", "6"), slog.String("g", "7"))
	if err := h.Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["trace_id"] != sc.TraceID().String() || line["span_id"] != sc.SpanID().String() || line["g"] != "7" {
		t.Fatalf("line %v, want trace_id %s, span_id %s", line, sc.TraceID(), sc.SpanID())
	}
	if r.NumAttrs() != 7 {
		t.Fatalf("the caller's record has %d attributes, want its 7", r.NumAttrs())
	}
}

// BenchmarkLogHandler is an access line (seven attributes) through LogHandler with a trace
// context, as every request logs it.
func BenchmarkLogHandler(b *testing.B) {
	h := LogHandler(slog.NewJSONHandler(io.Discard, nil))
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), newSpanContext())
	b.ReportAllocs()
	for b.Loop() {
		r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("request_id", "0123456789abcdef0123456789abcdef"), slog.String("method", "GET"),
			slog.String("path", "/test/0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b"), slog.Int("status", 200),
			slog.Int64("bytes", 180), slog.Float64("duration_ms", 1.234), slog.String("remote", "127.0.0.1:5555"))
		_ = h.Handle(ctx, r)
	}
}
