package metrics

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzHTTPLabels: whatever method and path a client sends, the series' label values stay in
// their closed sets.
func FuzzHTTPLabels(f *testing.F) {
	for _, s := range [][2]string{{"GET", "/test"}, {"GET", "/test/x"}, {"BREW", "/"}, {"", ""}, {"GET", "/test/../x"}, {"get", "//test"}, {"DELETE", "/test/%2F"}} {
		f.Add(s[0], s[1])
	}
	patterns := []string{"GET /test", "GET /test/{test_id}", "DELETE /test/{test_id}"}
	routes := map[string]bool{"/test": true, "/test/{test_id}": true, Unmatched: true}
	f.Fuzz(func(t *testing.T, method, path string) {
		reg := prometheus.NewRegistry()
		h := NewHTTP(reg)
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(len(path)%500 + 100) })
		r := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}, Host: "x"}
		h.Middleware("tests", RoutesOf(patterns), next).ServeHTTP(httptest.NewRecorder(), r)
		for _, s := range series(t, reg, "decagon_http_requests_total") {
			var ok bool
			for rt := range routes {
				for m := range methods {
					for _, c := range append(classes[:], "0xx") {
						ok = ok || s == "code_class="+c+",method="+m+",route="+rt+",service=tests" ||
							s == "code_class="+c+",method=OTHER,route="+rt+",service=tests"
					}
				}
			}
			if !ok {
				t.Fatalf("%q %q made series %s", method, path, s)
			}
		}
	})
}
