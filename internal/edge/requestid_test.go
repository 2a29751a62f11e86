package edge

import (
	"net/http"
	"testing"

	"github.com/decagon/decagon/internal/idp"
)

// TestOneRequestIDPerResponse: the services echo X-Request-Id on their responses (201s of
// POST and PUT included); the client must get exactly one, the edge's, whatever the method,
// the forwarding path, or an ID of the target's own.
func TestOneRequestIDPerResponse(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	h.backends[0].setHandler(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if r.URL.Query().Get("own") != "" {
			id = "the-target-s-own-id"
		}
		w.Header().Set("X-Request-Id", id)
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	bearer := "Bearer " + mint(t, idp.MintOptions{})
	cases := []struct {
		method, path, body string
		headers            []string
	}{
		{"GET", "/test/" + uuid1, "", nil},
		{"GET", "/test/" + uuid1 + "?own=1", "", nil},
		{"DELETE", "/test/" + uuid1, "", nil},
		{"POST", "/test", `{"name":"a"}`, []string{"Content-Type", "application/json"}},
		{"POST", "/test?own=1", `{"name":"a"}`, []string{"Content-Type", "application/json"}},
		{"POST", "/upload?filename=a.bin", "bytes", []string{"Content-Type", "application/octet-stream"}},
		{"GET", "/health-check", "", nil},
	}
	for _, tc := range cases {
		for _, clientID := range []string{"", "client-chosen-id"} {
			hdr := append([]string{"Authorization", bearer}, tc.headers...)
			if clientID != "" {
				hdr = append(hdr, "X-Request-Id", clientID)
			}
			r := h.do(tc.method, tc.path, tc.body, hdr...)
			if r.status >= 300 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
			}
			ids := r.header.Values("X-Request-Id")
			if len(ids) != 1 {
				t.Errorf("%s %s (client id %q): X-Request-Id %q, want exactly one", tc.method, tc.path, clientID, ids)
				continue
			}
			if clientID != "" && ids[0] != clientID {
				t.Errorf("%s %s: X-Request-Id %q, want the client's %q", tc.method, tc.path, ids[0], clientID)
			}
		}
	}
}
