package waf

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// cpuTime is the process's user+system CPU time: on a shared machine it measures the work per
// operation better than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRequests are the three shapes of the harness's mix: a clean GET, a clean POST of JSON,
// and an attack (SQL injection in the query string).
var benchRequests = []struct {
	name, method, target, contentType, body string
	status                                  int
}{
	{"CleanGET", "GET", "/test?limit=20&cursor=eyJpZCI6IjEyMyJ9", "", "", http.StatusOK},
	{"CleanPOSTJSON", "POST", "/test", "application/json", `{"name":"O'Brien's test","data":{"note":"select the best option from the menu","url":"https://example.com/a?b=c","n":42,"tags":["a","b"]}}`, http.StatusOK},
	{"Attack", "GET", "/test?id=1%27%20OR%20%271%27%3D%271%27%20UNION%20SELECT%20password%20FROM%20users--", "", "", http.StatusForbidden},
}

func BenchmarkMiddleware(b *testing.B) {
	// decagon.yaml as shipped, with a rate-based rule the loop cannot reach.
	w, err := New(shipped(func(w *topology.WAF) { w.RateLimit.Limit = 2_000_000_000 }), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	h := w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	for _, br := range benchRequests {
		b.Run(br.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r := httptest.NewRequest(br.method, br.target, strings.NewReader(br.body))
				r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) decagon-bench/1.0")
				r.Header.Set("Accept", "application/json")
				r.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJpZCJ9.c2lnbmF0dXJl")
				if br.contentType != "" {
					r.Header.Set("Content-Type", br.contentType)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != br.status {
					b.Fatalf("status %d, want %d", rec.Code, br.status)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
