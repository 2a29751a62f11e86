package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/idp"
)

func TestStageRouting(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	tok := mint(t, idp.MintOptions{})
	bearer := "Bearer " + tok
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		fwdPath, fwdQuery        string // for forwarded requests
		allow                    string // for 405
		detail                   string // substring of a problem's detail
	}{
		{name: "plain path", method: "GET", path: "/test/" + uuid1, headers: []string{"Authorization", bearer}, status: 200, fwdPath: "/test/" + uuid1},
		{name: "stage path", method: "GET", path: "/Test/test/" + uuid1, headers: []string{"Authorization", bearer}, status: 200, fwdPath: "/test/" + uuid1},
		{name: "query kept", method: "GET", path: "/Test/test?limit=5&cursor=abc", headers: []string{"Authorization", bearer}, status: 200, fwdPath: "/test", fwdQuery: "limit=5&cursor=abc"},
		{name: "bare token", method: "GET", path: "/test", headers: []string{"Authorization", tok}, status: 200, fwdPath: "/test"},
		{name: "public health check", method: "GET", path: "/Test/health-check", status: 200, fwdPath: "/health-check"},
		{name: "post", method: "POST", path: "/test", body: `{"name":"a","data":{"k":[1,2]}}`, headers: []string{"Authorization", bearer, "Content-Type", "application/json"}, status: 200, fwdPath: "/test"},
		{name: "unknown path", method: "GET", path: "/nope", status: 404, detail: "no such route"},
		{name: "stage alone", method: "GET", path: "/Test", status: 404},
		{name: "stage wrong case", method: "GET", path: "/test/Test", headers: []string{"Authorization", bearer}, status: 400},
		{name: "other stage", method: "GET", path: "/Prod/test", status: 404},
		{name: "trailing slash", method: "GET", path: "/test/", status: 404},
		{name: "dot dot", method: "GET", path: "/test/x/../" + uuid1, status: 404},
		{name: "double slash", method: "GET", path: "//test", status: 404},
		{name: "extra segment", method: "GET", path: "/test/" + uuid1 + "/x", status: 404},
		{name: "wrong method", method: "PUT", path: "/test", status: 405, allow: "GET, POST"},
		{name: "wrong method on item", method: "POST", path: "/Test/test/" + uuid1, status: 405, allow: "DELETE, GET"},
		{name: "head is not get", method: "HEAD", path: "/test", status: 405, allow: "GET, POST"},
		{name: "bad path parameter", method: "GET", path: "/test/not-a-uuid", headers: []string{"Authorization", bearer}, status: 400, detail: `parameter "test_id" in path`},
		{name: "bad query parameter", method: "GET", path: "/test?limit=0", headers: []string{"Authorization", bearer}, status: 400, detail: `parameter "limit" in query`},
		{name: "non-integer limit", method: "GET", path: "/test?limit=ten", headers: []string{"Authorization", bearer}, status: 400, detail: `parameter "limit"`},
		{name: "bad header parameter", method: "POST", path: "/test", body: `{"name":"a"}`, headers: []string{"Authorization", bearer, "Content-Type", "application/json", "Idempotency-Key", "has space"}, status: 400, detail: `parameter "Idempotency-Key" in header`},
		{name: "unknown field", method: "POST", path: "/test", body: `{"nam":"a"}`, headers: []string{"Authorization", bearer, "Content-Type", "application/json"}, status: 400, detail: "request body"},
		{name: "name too long", method: "POST", path: "/test", body: `{"name":"` + strings.Repeat("x", 201) + `"}`, headers: []string{"Authorization", bearer, "Content-Type", "application/json"}, status: 400, detail: "/name"},
		{name: "malformed json", method: "POST", path: "/test", body: `{"name":`, headers: []string{"Authorization", bearer, "Content-Type", "application/json"}, status: 400, detail: "request body"},
		{name: "missing body", method: "POST", path: "/test", headers: []string{"Authorization", bearer, "Content-Type", "application/json"}, status: 400, detail: "request body"},
		{name: "wrong content type", method: "POST", path: "/test", body: `{"name":"a"}`, headers: []string{"Authorization", bearer, "Content-Type", "text/plain"}, status: 415},
		{name: "no content type", method: "POST", path: "/test", body: `{"name":"a"}`, headers: []string{"Authorization", bearer}, status: 415},
		{name: "auth before validation", method: "GET", path: "/test/not-a-uuid", status: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do(tc.method, tc.path, tc.body, tc.headers...)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.status, tc.status, resp.body)
			}
			id := resp.header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("no X-Request-Id")
			}
			if tc.status == 200 {
				e := resp.echo(t)
				if e.Path != tc.fwdPath || e.Query != tc.fwdQuery {
					t.Fatalf("forwarded %s?%s, want %s?%s", e.Path, e.Query, tc.fwdPath, tc.fwdQuery)
				}
				if got := strings.Join(e.Header["X-Request-Id"], ","); got != id {
					t.Fatalf("forwarded X-Request-Id %q, response has %q", got, id)
				}
				if tc.body != "" && e.Body != tc.body {
					t.Fatalf("forwarded body %q, want %q", e.Body, tc.body)
				}
				return
			}
			if tc.method == "HEAD" {
				return
			}
			p := resp.problem(t)
			if int(p["status"].(float64)) != tc.status || p["request_id"] != id {
				t.Fatalf("problem %v, request id %s", p, id)
			}
			if got := resp.header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
			if d, _ := p["detail"].(string); !strings.Contains(d, tc.detail) {
				t.Fatalf("detail %q does not contain %q", d, tc.detail)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	cases := []struct {
		in   string
		keep bool
	}{
		{"client-id-123", true},
		{"bad id with spaces", false},
		{strings.Repeat("x", 200), false},
		{"", false},
	}
	for _, tc := range cases {
		var hdr []string
		if tc.in != "" {
			hdr = []string{"X-Request-Id", tc.in}
		}
		resp := h.do("GET", "/health-check", "", hdr...)
		got := resp.header.Get("X-Request-Id")
		if (got == tc.in) != tc.keep || got == "" {
			t.Fatalf("in %q: got %q, keep %v", tc.in, got, tc.keep)
		}
		if fwd := resp.echo(t).Header["X-Request-Id"]; len(fwd) != 1 || fwd[0] != got {
			t.Fatalf("in %q: forwarded %q, response %q", tc.in, fwd, got)
		}
	}
}

func TestPayloadLimit(t *testing.T) {
	h := newHarness(t, 1, testTopology, func(c *Config) { c.MaxBodyBytes = 1024 })
	bearer := "Bearer " + mint(t, idp.MintOptions{})
	big := `{"name":"` + strings.Repeat("x", 2000) + `"}`
	resp := h.do("POST", "/test", big, "Authorization", bearer, "Content-Type", "application/json")
	if resp.status != 413 {
		t.Fatalf("declared length: status %d %s", resp.status, resp.body)
	}
	resp.problem(t)
	if h.backends[0].hits.Load() != 0 {
		t.Fatal("an oversized body reached the backend")
	}

	// The same body chunked, without Content-Length: the edge counts.
	req, _ := http.NewRequest("POST", h.url+"/test", io.NopCloser(strings.NewReader(big)))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 413 {
		t.Fatalf("chunked: status %d", r.StatusCode)
	}
	if ok := h.do("POST", "/test", `{"name":"fits"}`, "Authorization", bearer, "Content-Type", "application/json"); ok.status != 200 {
		t.Fatalf("small body: %d %s", ok.status, ok.body)
	}
}

func TestHeaderLimit(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	resp := h.do("GET", "/health-check", "", "X-Big", strings.Repeat("a", 20<<10))
	if resp.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d", resp.status)
	}
}

func TestH2C(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &p}}
	resp, err := c.Get(h.url + "/Test/health-check")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("status %d proto %s", resp.StatusCode, resp.Proto)
	}
}

// TestStreamedBodies: binary upload bodies are streamed to the target unbuffered and cut at
// the payload limit; the local-only signed-URL operations (S3's stand-in) have no limit.
func TestStreamedBodies(t *testing.T) {
	h := newHarness(t, 1, testTopology, func(c *Config) { c.MaxBodyBytes = 4 << 10 })
	bearer := "Bearer " + mint(t, idp.MintOptions{})
	small := strings.Repeat("b", 3<<10)
	r := h.do("POST", "/upload?filename=a.bin", small, "Authorization", bearer, "Content-Type", "application/octet-stream")
	if r.status != 200 || r.echo(t).Body != small {
		t.Fatalf("small upload: %d", r.status)
	}
	// Past the limit without a Content-Length: the edge counts while streaming.
	req, _ := http.NewRequest("POST", h.url+"/upload?filename=a.bin", io.NopCloser(strings.NewReader(strings.Repeat("b", 64<<10))))
	req.ContentLength = -1
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("streamed past the limit: %d", resp.StatusCode)
	}
	big := strings.Repeat("s", 64<<10)
	path := "/upload/_blob/uploads/" + strings.Repeat("a", 32) + "/" + uuid1 + "?token=t"
	if r := h.do("PUT", path, big, "Content-Type", "application/octet-stream"); r.status != 200 || len(r.echo(t).Body) != len(big) {
		t.Fatalf("local-only signed upload: %d", r.status)
	}
}
