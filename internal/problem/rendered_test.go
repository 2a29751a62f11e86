package problem

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteRenderedHeaders: a problem the edge renders from its templates and one Write
// marshals leave with the same headers.
func TestWriteRenderedHeaders(t *testing.T) {
	rendered := httptest.NewRecorder()
	rendered.Header().Set("Content-Length", "999") // a stale length must not survive
	WriteRendered(rendered, http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}, []byte(`{"status":429}`+"\n"))
	written := httptest.NewRecorder()
	Write(written, New(http.StatusTooManyRequests, "slow down").With("Retry-After", "3"), "rid")
	for _, rec := range []*httptest.ResponseRecorder{rendered, written} {
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("status %d", rec.Code)
		}
		for k, v := range map[string]string{"Content-Type": ContentType, "X-Content-Type-Options": "nosniff",
			"Cache-Control": "no-store", "Retry-After": "3", "Content-Length": ""} {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	}
	if rendered.Body.String() != `{"status":429}`+"\n" {
		t.Errorf("body %q", rendered.Body.String())
	}
}
