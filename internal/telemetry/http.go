package telemetry

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Middleware continues the trace of the request's traceparent (or starts one) in a server span
// around next, named by route after next has run ("GET /test/{test_id}"; route may return ""
// for unmatched requests). It writes the span's traceparent back into the request's header,
// so that a proxy forwarding the header (the edge) passes the trace on to its target.
func Middleware(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prop := otel.GetTextMapPropagator()
		if !exporting.Load() && prop == propagation.TextMapPropagator(w3c) &&
			r.Header["Traceparent"] == nil && r.Header["Baggage"] == nil {
			// The common case, answered without the propagator: nothing to extract (the
			// server has canonicalized the header names), so the request gets new IDs,
			// written back as TraceContext.Inject writes them (not sampled, no baggage).
			sc := newSpanContext()
			r.Header["Traceparent"] = []string{traceparent(sc)}
			next.ServeHTTP(w, r.WithContext(trace.ContextWithRemoteSpanContext(r.Context(), sc)))
			return
		}
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		if !exporting.Load() {
			// Nothing is recorded: keep the caller's trace context as it is, or make one
			// (the no-op provider makes no IDs) so that the logs of the hops correlate.
			if !trace.SpanContextFromContext(ctx).IsValid() {
				ctx = trace.ContextWithRemoteSpanContext(ctx, newSpanContext())
				prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		ctx, span := Tracer().Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		rec := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		name := r.Method
		if rt := route(r); rt != "" {
			name = r.Method + " " + rt
			span.SetAttributes(attribute.String("http.route", rt))
		}
		span.SetName(name)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// newSpanContext returns fresh random IDs, not sampled. math/rand/v2's generator is seeded
// from the OS and fast; trace IDs need uniqueness, not secrecy.
func newSpanContext() trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	a, b, c := rand.Uint64(), rand.Uint64(), rand.Uint64()|1
	for i := range 8 {
		tid[i], tid[8+i], sid[i] = byte(a>>(8*i)), byte(b>>(8*i)), byte(c>>(8*i))
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true})
}

// traceparent is the W3C traceparent header of an unsampled span context (version 00).
func traceparent(sc trace.SpanContext) string {
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	copy(b[52:], "-00")
	return string(b[:])
}

// Transport returns a RoundTripper that sends each request in a client span and with the
// span's traceparent; base is http.DefaultTransport when nil.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{base}
}

type roundTripper struct{ base http.RoundTripper }

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := Tracer().Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	r = r.Clone(ctx)
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "round trip failed")
		return nil, err
	}
	span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.Int("http.response.status_code", resp.StatusCode),
		attribute.String("server.address", r.URL.Host))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through.
func (s *statusWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
