package blobtest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/blob"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

// Do sends the request a signed URL allows, with its headers, and body as the body (n bytes
// announced in Content-Length). It returns the status, the response headers and the body's
// size and SHA-256; it fails the test only on transport errors.
func Do(t testing.TB, su blob.SignedURL, body io.Reader, n int64) (int, http.Header, int64, [32]byte) {
	t.Helper()
	return do(t, su.Method, su.URL, su.Header, body, n)
}

func do(t testing.TB, method, u string, h http.Header, body io.Reader, n int64) (int, http.Header, int64, [32]byte) {
	t.Helper()
	if body == nil || n == 0 {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, u, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.ContentLength = n
	for k, vs := range h {
		if k != "Content-Length" {
			req.Header[k] = vs
		}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	size, sum, err := hashReader(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header, size, sum
}

func sign(t testing.TB, b *blob.Bucket, key string, o blob.SignOptions) blob.SignedURL {
	t.Helper()
	su, err := b.SignedURL(ctxT(t), key, o)
	if err != nil {
		t.Fatalf("SignedURL(%s, %+v): %v", key, o, err)
	}
	return su
}

func testSignedRoundTrip(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	for i, size := range []int64{0, 5, 3 * mib} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			key := "uploads/signed/k" + strconv.Itoa(i)
			start := time.Now()
			put := sign(t, tg.Bucket, key, blob.SignOptions{Method: http.MethodPut, ContentType: "application/pdf", ContentLength: size, Expiry: 10 * time.Minute})
			if put.Method != http.MethodPut || put.Header.Get("Content-Type") != "application/pdf" || put.Header.Get("If-None-Match") != "*" {
				t.Errorf("signed PUT = %+v, want method PUT, Content-Type application/pdf, If-None-Match *", put)
			}
			if d := put.ExpiresAt.Sub(start); d < 9*time.Minute || d > 11*time.Minute {
				t.Errorf("ExpiresAt %v is %v away, want about 10m", put.ExpiresAt, d)
			}
			if st, _, _, _ := Do(t, put, NewStream(byte(i), size), size); st != http.StatusOK {
				t.Fatalf("signed PUT: status %d, want 200", st)
			}
			sum := Digest(byte(i), size)
			checkObject(t, tg.Bucket, key, size, sum, "application/pdf")

			if st, _, _, _ := Do(t, put, NewStream(9, size), size); st != http.StatusPreconditionFailed {
				t.Errorf("replayed signed PUT: status %d, want 412", st)
			}
			checkObject(t, tg.Bucket, key, size, sum, "application/pdf")

			cd := `attachment; filename="report.pdf"`
			get := sign(t, tg.Bucket, key, blob.SignOptions{Method: http.MethodGet, ContentDisposition: cd})
			st, h, n, got := Do(t, get, nil, 0)
			if st != http.StatusOK || n != size || got != sum {
				t.Fatalf("signed GET: status %d, %d bytes %x; want 200, %d bytes %x", st, n, got, size, sum)
			}
			if h.Get("Content-Type") != "application/pdf" || h.Get("Content-Disposition") != cd || h.Get("Content-Length") != strconv.FormatInt(size, 10) {
				t.Errorf("signed GET headers: type %q disposition %q length %q", h.Get("Content-Type"), h.Get("Content-Disposition"), h.Get("Content-Length"))
			}
			over := sign(t, tg.Bucket, key, blob.SignOptions{Method: http.MethodGet, ContentType: "text/plain"})
			if st, h, _, _ := Do(t, over, nil, 0); st != http.StatusOK || h.Get("Content-Type") != "text/plain" {
				t.Errorf("signed GET with type override: status %d type %q", st, h.Get("Content-Type"))
			}
		})
	}
	t.Run("missing object", func(t *testing.T) {
		get := sign(t, tg.Bucket, "uploads/none", blob.SignOptions{Method: http.MethodGet})
		if st, _, _, _ := Do(t, get, nil, 0); st != http.StatusNotFound {
			t.Errorf("signed GET of a missing object: status %d, want 404", st)
		}
	})
}

// testSignedPutRefused: every way of using a signed PUT other than as signed is refused (the
// file backend's exact statuses are checked in its own tests; S3 says 403 to most) and
// stores nothing.
func testSignedPutRefused(t *testing.T, newTarget func(testing.TB) Target) {
	const size = 1000
	body := bytes.Repeat([]byte("z"), size+1)
	cases := []struct {
		name   string
		method string
		n      int64
		header func(http.Header)
	}{
		{"longer body", http.MethodPut, size + 1, nil},
		{"shorter body", http.MethodPut, size - 1, nil},
		{"empty body", http.MethodPut, 0, nil},
		{"other content type", http.MethodPut, size, func(h http.Header) { h.Set("Content-Type", "text/html") }},
		{"no If-None-Match", http.MethodPut, size, func(h http.Header) { h.Del("If-None-Match") }},
		{"used for GET", http.MethodGet, 0, nil},
		{"used for DELETE", http.MethodDelete, 0, nil},
	}
	tg := newTarget(t)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "uploads/refused/k" + strconv.Itoa(i)
			su := sign(t, tg.Bucket, key, blob.SignOptions{Method: http.MethodPut, ContentType: "image/png", ContentLength: size})
			h := su.Header.Clone()
			if c.header != nil {
				c.header(h)
			}
			st, _, _, _ := do(t, c.method, su.URL, h, bytes.NewReader(body[:c.n]), c.n)
			if st < 400 || st > 499 {
				t.Errorf("status %d, want 4xx", st)
			}
			checkAbsent(t, tg.Bucket, key)
		})
	}
	t.Run("GET URL used for PUT", func(t *testing.T) {
		su := sign(t, tg.Bucket, "uploads/refused/get", blob.SignOptions{Method: http.MethodGet})
		if st, _, _, _ := do(t, http.MethodPut, su.URL, http.Header{"Content-Type": {"application/octet-stream"}}, bytes.NewReader(body[:1]), 1); st != http.StatusForbidden {
			t.Errorf("status %d, want 403", st)
		}
		checkAbsent(t, tg.Bucket, "uploads/refused/get")
	})
	if got := tg.Residue(t); len(got) != 0 {
		t.Errorf("refused signed PUTs left %v", got)
	}
}

func testSignedExpired(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	ctx := ctxT(t)
	if _, err := tg.Bucket.Put(ctx, "uploads/e/have", strings.NewReader("hello"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	get := sign(t, tg.Bucket, "uploads/e/have", blob.SignOptions{Method: http.MethodGet, Expiry: time.Minute})
	put := sign(t, tg.Bucket, "uploads/e/new", blob.SignOptions{Method: http.MethodPut, ContentLength: 5, Expiry: time.Minute})
	tg.Advance(50 * time.Second)
	if st, _, n, _ := Do(t, get, nil, 0); st != http.StatusOK || n != 5 {
		t.Fatalf("signed GET before expiry: status %d, %d bytes", st, n)
	}
	tg.Advance(11 * time.Second)
	if st, _, _, _ := Do(t, get, nil, 0); st != http.StatusForbidden {
		t.Errorf("expired signed GET: status %d, want 403", st)
	}
	if st, _, _, _ := Do(t, put, strings.NewReader("hello"), 5); st != http.StatusForbidden {
		t.Errorf("expired signed PUT: status %d, want 403", st)
	}
	checkAbsent(t, tg.Bucket, "uploads/e/new")
}

func testSignedTampered(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	ctx := ctxT(t)
	for _, k := range []string{"uploads/t/mine", "uploads/t/theirs"} {
		if _, err := tg.Bucket.Put(ctx, k, strings.NewReader(k), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	get := sign(t, tg.Bucket, "uploads/t/mine", blob.SignOptions{Method: http.MethodGet, ContentDisposition: "attachment"})
	if st, _, _, _ := Do(t, get, nil, 0); st != http.StatusOK {
		t.Fatalf("untampered signed GET: status %d", st)
	}
	variants := map[string]string{"other key": strings.Replace(get.URL, "/mine", "/theirs", 1)}
	u, err := url.Parse(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	for name := range u.Query() {
		q := u.Query()
		q.Set(name, q.Get(name)+"A")
		v := *u
		v.RawQuery = q.Encode()
		variants["changed "+name] = v.String()
		q = u.Query()
		q.Del(name)
		v.RawQuery = q.Encode()
		variants["without "+name] = v.String()
	}
	v := *u
	v.RawQuery += "&response-content-type=text%2Fhtml"
	variants["added parameter"] = v.String()
	for name, tampered := range variants {
		t.Run(name, func(t *testing.T) {
			if st, _, _, _ := do(t, http.MethodGet, tampered, nil, nil, 0); st != http.StatusForbidden {
				t.Errorf("GET %s: status %d, want 403", tampered, st)
			}
		})
	}
	put := sign(t, tg.Bucket, "uploads/t/new", blob.SignOptions{Method: http.MethodPut, ContentLength: 3})
	moved := strings.Replace(put.URL, "/new", "/other", 1)
	if st, _, _, _ := do(t, http.MethodPut, moved, put.Header, strings.NewReader("abc"), 3); st != http.StatusForbidden {
		t.Errorf("signed PUT moved to another key: status %d, want 403", st)
	}
	checkAbsent(t, tg.Bucket, "uploads/t/new")
	checkAbsent(t, tg.Bucket, "uploads/t/other")
}
