package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

var anyVersionRE = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}`)

// FuzzMiddleware: whatever traceparent and tracestate a client sends, the request goes on with
// a valid trace context in its context and in its traceparent header, the same in both (a
// valid header of a later version is kept as sent, as W3C trace context asks).
func FuzzMiddleware(f *testing.F) {
	for _, s := range [][2]string{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE"},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "a=b,c=d"},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", ""},
		{"", ""},
		{"\x00\xff", "=,=,="},
	} {
		f.Add(s[0], s[1])
	}
	shutdown, err := Setup(context.Background(), Config{Getenv: func(string) string { return "" }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, traceparent, tracestate string) {
		var inCtx, inHeader string
		h := Middleware(func(*http.Request) string { return "" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inCtx = TraceID(r.Context())
			inHeader = r.Header.Get("Traceparent")
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Traceparent"] = []string{traceparent}
		req.Header["Tracestate"] = []string{tracestate}
		h.ServeHTTP(httptest.NewRecorder(), req)
		m := anyVersionRE.FindStringSubmatch(inHeader)
		if m == nil || len(inCtx) != 32 || m[1] != inCtx {
			t.Fatalf("traceparent %q → header %q, context trace %q", traceparent, inHeader, inCtx)
		}
	})
}
