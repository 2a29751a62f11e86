package waf

import (
	"encoding/base64"
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

// benchToken is shaped like a Cognito access token (RS256: a 2048-bit signature, the claims a
// user pool puts in one), about a kilobyte as the real ones are.
var benchToken = func() string {
	b64 := base64.RawURLEncoding.EncodeToString
	header := b64([]byte(`{"kid":"Zx8PO0rNnwVxq4+iOCdBKq9tPMjYbSiU4RXXbnXH8oA=","alg":"RS256"}`))
	claims := b64([]byte(`{"sub":"5f1c2d9e-8a4b-4c3d-9e2f-1a2b3c4d5e6f","cognito:groups":["admins"],"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI","version":2,"client_id":"1example23456789abcdefghij","origin_jti":"0a1b2c3d-4e5f-6789-abcd-ef0123456789","event_id":"9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0","token_use":"access","scope":"aws.cognito.signin.user.admin decagon/read decagon/write","auth_time":1795950000,"exp":1795953600,"iat":1795950000,"jti":"11223344-5566-7788-99aa-bbccddeeff00","username":"o.brien"}`))
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(i * 7)
	}
	return "Bearer " + header + "." + claims + "." + b64(sig)
}()

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
				r.Header.Set("Authorization", benchToken)
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
