package blob_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/problem"
)

// send makes one request and decodes a problem body when there is one.
func send(t *testing.T, method, u string, h http.Header, body io.Reader, n int64) (*http.Response, *problem.Problem) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != problem.ContentType {
		return resp, nil
	}
	var p problem.Problem
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("problem body %q: %v", raw, err)
	}
	if p.Status != resp.StatusCode || p.Title == "" || p.Type != "about:blank" {
		t.Errorf("problem %+v does not match status %d", p, resp.StatusCode)
	}
	return resp, &p
}

// TestSignedHandlerStatuses pins the file backend's exact answers, which the conformance suite
// only checks as "4xx, nothing stored".
func TestSignedHandlerStatuses(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewFile(t)
	ctx := context.Background()
	sign := func(key string, o blob.SignOptions) blob.SignedURL {
		t.Helper()
		su, err := tg.Bucket.SignedURL(ctx, key, o)
		if err != nil {
			t.Fatal(err)
		}
		return su
	}
	put := func(key string, n int64) blob.SignedURL {
		return sign(key, blob.SignOptions{Method: http.MethodPut, ContentType: "text/plain", ContentLength: n})
	}
	if _, err := tg.Bucket.Put(ctx, "have", strings.NewReader("<html><script>alert(1)</script>"), blob.PutOptions{ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	get := sign("have", blob.SignOptions{Method: http.MethodGet})
	longPut := put("k1", 10)
	chunkedPut := put("k2", 10)
	shortPut := put("k3", 10)
	expiring := sign("have", blob.SignOptions{Method: http.MethodGet, Expiry: time.Second})
	u, _ := url.Parse(get.URL)
	base := strings.TrimSuffix(u.String(), "have?"+u.RawQuery)

	cases := []struct {
		name   string
		method string
		url    string
		header http.Header
		body   io.Reader
		n      int64
		status int
		detail string
	}{
		{"GET ok", http.MethodGet, get.URL, nil, nil, 0, 200, ""},
		{"PUT longer Content-Length", http.MethodPut, longPut.URL, longPut.Header, strings.NewReader("12345678901"), 11, 413, "body is 11 bytes, signed for 10"},
		{"PUT longer chunked", http.MethodPut, chunkedPut.URL, chunkedPut.Header, io.MultiReader(strings.NewReader("1234567890"), strings.NewReader("1")), -1, 413, "body longer than the signed 10 bytes"},
		{"PUT shorter chunked", http.MethodPut, shortPut.URL, shortPut.Header, io.MultiReader(strings.NewReader("123")), -1, 400, "body shorter than the signed 10 bytes"},
		{"POST", http.MethodPost, get.URL, nil, nil, 0, 405, "signed URLs allow GET or PUT"},
		{"other method", http.MethodPut, get.URL, http.Header{"Content-Type": {"text/plain"}, "If-None-Match": {"*"}}, strings.NewReader("x"), 1, 403, "signed URL is for another method"},
		{"other key", http.MethodGet, strings.Replace(get.URL, "/have?", "/other?", 1), nil, nil, 0, 403, "signed URL is for another object"},
		{"tampered", http.MethodGet, strings.Replace(get.URL, "token=", "token=A", 1), nil, nil, 0, 403, "signed URL signature mismatch"},
		{"no token", http.MethodGet, base + "have", nil, nil, 0, 403, "signed URL malformed"},
		{"bad key", http.MethodGet, base + ".hidden?" + u.RawQuery, nil, nil, 0, 404, "no such object"},
		{"outside prefix", http.MethodGet, strings.Replace(get.URL, blobtest.SignedPrefix, "/elsewhere/", 1), nil, nil, 0, 404, ""},
	}
	for _, c := range cases {
		resp, p := send(t, c.method, c.url, c.header, c.body, c.n)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d (%+v)", c.name, resp.StatusCode, c.status, p)
			continue
		}
		if c.detail != "" && (p == nil || p.Detail != c.detail) {
			t.Errorf("%s: problem %+v, want detail %q", c.name, p, c.detail)
		}
		if c.status == 405 && resp.Header.Get("Allow") != "GET, PUT" {
			t.Errorf("%s: Allow %q", c.name, resp.Header.Get("Allow"))
		}
	}
	resp, _ := send(t, http.MethodGet, get.URL, nil, nil, 0)
	for k, want := range map[string]string{
		"Content-Type":            "text/html",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("signed GET %s = %q, want %q", k, got, want)
		}
	}
	tg.Advance(2 * time.Second)
	if resp, p := send(t, http.MethodGet, expiring.URL, nil, nil, 0); resp.StatusCode != 403 || p == nil || p.Detail != "signed URL expired" {
		t.Errorf("expired: %d %+v", resp.StatusCode, p)
	}
	if got := tg.Residue(t); strings.Join(got, ",") != "have,have.attrs" {
		t.Errorf("residue %v, want only the object written directly", got)
	}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, target, nil)
}

// TestSignedPutClientGone: a client that disconnects mid-body leaves nothing behind. The
// temporary file must first appear (the upload is under way), then vanish.
func TestSignedPutClientGone(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewFile(t)
	su, err := tg.Bucket.SignedURL(context.Background(), "uploads/gone", blob.SignOptions{Method: http.MethodPut, ContentLength: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(su.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	head := "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nContent-Type: application/octet-stream\r\nIf-None-Match: *\r\nContent-Length: 1048576\r\n\r\n"
	if _, err := conn.Write(append([]byte(head), make([]byte, 300<<10)...)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the upload's temporary file", func() bool { return len(tg.Residue(t)) > 0 })
	conn.Close()
	waitFor(t, "the temporary file to go", func() bool { return len(tg.Residue(t)) == 0 })
	if _, err := tg.Bucket.Stat(context.Background(), "uploads/gone"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after abandoned upload: %v, want ErrNotFound", err)
	}
}

// waitFor polls cond every 5 ms until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
