package waf

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// client is a real client's request: its exact header set (as the client sends it, Host and
// Content-Length aside, which net/http keeps apart) and body.
type client struct {
	name, method, target string
	header               [][2]string
	body                 []byte
}

func multipartBody(boundary, field, filename, contentType string, content []byte) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(boundary)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="%s"; filename="%s"`, field, strings.NewReplacer(`"`, `\"`).Replace(filename))}
	h["Content-Type"] = []string{contentType}
	w, _ := mw.CreatePart(h)
	_, _ = w.Write(content)
	_ = mw.Close()
	return b.Bytes()
}

// clients are the header sets of curl (plain, -F multipart, --data-binary, large bodies with
// Expect: 100-continue), Go's net/http, Python requests, browsers' fetch (Sec-Fetch-*,
// Sec-Ch-Ua, cookies, Accept-Language) and the AWS SDK's presigned PUT.
func clients() []client {
	const (
		token    = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJpZCIsImF1ZCI6ImRlY2Fnb24ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtX18tLQ"
		id       = "0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"
		blob     = "/upload/_blob/uploads/5f0c3e1a9b8d4c2e7f6a1b0c9d8e7f6a/" + id + "?token=eyJvIjoiNWYwYzNlMWEiLCJ1IjoiMGI5ZTZhNTIiLCJlIjoxNzM1Njg5NjAwfQ.qL3k9X_-Zt8wP0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT"
		boundary = "------------------------8f1d2a3b4c5d6e7f"
	)
	pdf := append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), bytes.Repeat([]byte("0 0 obj << /Type /Page >> endobj\n"), 160_000)...) // ~5 MiB
	var text, csv bytes.Buffer
	for i := 0; text.Len() < 4<<20; i++ {
		fmt.Fprintf(&text, "%d. O'Brien wrote: \"Let's select a date & update the plan; the table's ready.\" (%d%%)\n", i, i%100)
	}
	csv.WriteString("id,name,email,comment,amount,date\n")
	for i := 0; csv.Len() < 4<<20; i++ {
		fmt.Fprintf(&csv, "%d,\"O'Brien, Pat\",pat%d@example.com,\"said \"\"hi\"\"; left early\",%d.50,2026-01-%02d\n", i, i, i, i%28+1)
	}
	curl := [][2]string{{"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}, {"Authorization", token}}
	with := func(base [][2]string, more ...[2]string) [][2]string {
		return append(append([][2]string(nil), base...), more...)
	}
	var out []client
	for _, name := range []string{"Q3 report – O'Brien (final).pdf", "a;b.pdf", "x=y.pdf", "report.pdf", "résumé 2026.pdf", "notes (1).txt"} {
		body := multipartBody(boundary, "file", name, "application/pdf", pdf)
		out = append(out, client{"curl -F " + name, "POST", "/upload",
			with(curl, [2]string{"Content-Type", "multipart/form-data; boundary=" + boundary}, [2]string{"Expect", "100-continue"}), body})
	}
	out = append(out,
		client{"curl --data-binary text/plain", "POST", "/upload?filename=notes.txt",
			with(curl, [2]string{"Content-Type", "text/plain"}, [2]string{"Expect", "100-continue"}), text.Bytes()},
		client{"curl --data-binary text/csv", "POST", "/upload?filename=export.csv",
			with(curl, [2]string{"Content-Type", "text/csv"}, [2]string{"Expect", "100-continue"}), csv.Bytes()},
		client{"curl --data-binary pdf", "POST", "/upload?filename=report.pdf",
			with(curl, [2]string{"Content-Type", "application/pdf"}, [2]string{"Expect", "100-continue"}), pdf},
		client{"curl POST /test", "POST", "/test",
			with(curl, [2]string{"Content-Type", "application/json"}, [2]string{"Idempotency-Key", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}),
			[]byte(`{"name":"O'Brien's test","data":{"note":"select the best option from the menu"}}`)},
		client{"curl GET /test", "GET", "/test?limit=20", curl, nil},
		client{"curl DELETE", "DELETE", "/test/" + id, curl, nil},
		client{"curl presign", "POST", "/upload/presign", with(curl, [2]string{"Content-Type", "application/json"}),
			[]byte(`{"filename":"Holiday photo – Côte d'Azur (1).jpg","content_type":"image/jpeg","size":5242880}`)},
		client{"curl complete", "POST", "/upload/" + id + "/complete", curl, nil},
		client{"curl GET redirect", "GET", "/upload/" + id + "?redirect=true", curl, nil},
		client{"Go net/http POST", "POST", "/test", [][2]string{{"User-Agent", "Go-http-client/1.1"}, {"Content-Type", "application/json"},
			{"Authorization", token}, {"Accept-Encoding", "gzip"}}, []byte(`{"name":"go client","data":{"n":1,"ok":true}}`)},
		client{"Go net/http GET", "GET", "/upload?limit=50&cursor=eyJpZCI6IjEyMyJ9", [][2]string{{"User-Agent", "Go-http-client/1.1"},
			{"Authorization", token}, {"Accept-Encoding", "gzip"}}, nil},
		client{"Go net/http upload", "POST", "/upload?filename=data.bin", [][2]string{{"User-Agent", "Go-http-client/1.1"},
			{"Content-Type", "application/octet-stream"}, {"Authorization", token}, {"Accept-Encoding", "gzip"}}, pdf[:1<<20]},
		client{"Python requests POST", "POST", "/test", [][2]string{{"User-Agent", "python-requests/2.32.3"}, {"Accept-Encoding", "gzip, deflate"},
			{"Accept", "*/*"}, {"Connection", "keep-alive"}, {"Content-Type", "application/json"}, {"Authorization", token}},
			[]byte(`{"name": "Python \"requests\"", "data": {"items": [1, 2, 3], "when": "2026-01-02T03:04:05Z"}}`)},
		client{"Python requests files=", "POST", "/upload", [][2]string{{"User-Agent", "python-requests/2.32.3"}, {"Accept-Encoding", "gzip, deflate"},
			{"Accept", "*/*"}, {"Connection", "keep-alive"}, {"Authorization", token},
			{"Content-Type", "multipart/form-data; boundary=8c1f9d2e7a6b4c3d"}},
			multipartBody("8c1f9d2e7a6b4c3d", "file", "O'Brien's notes.txt", "text/plain", text.Bytes()[:200<<10])},
		client{"browser fetch POST", "POST", "/test", [][2]string{
			{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"},
			{"Accept", "application/json, text/plain, */*"}, {"Accept-Language", "en-GB,en;q=0.9,fr-FR;q=0.8,fr;q=0.7,de;q=0.6"},
			{"Accept-Encoding", "gzip, deflate, br, zstd"}, {"Content-Type", "application/json"}, {"Authorization", token},
			{"Origin", "https://app.example.com"}, {"Referer", "https://app.example.com/tests/new?draft=1&from=O%27Brien"},
			{"Sec-Ch-Ua", `"Chromium";v="128", "Not;A=Brand";v="24", "Google Chrome";v="128"`}, {"Sec-Ch-Ua-Mobile", "?0"},
			{"Sec-Ch-Ua-Platform", `"Windows"`}, {"Sec-Fetch-Dest", "empty"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "same-site"},
			{"Cookie", "theme=dark; _ga=GA1.1.123456789.1735689600; session_hint=\"a=b;c\"; lang=en-GB"},
			{"Priority", "u=1, i"}}, []byte(`{"name":"From the browser","data":{"html":"<b>bold</b> &amp; <i>italic</i>"}}`)},
		client{"browser fetch GET", "GET", "/test?limit=10", [][2]string{
			{"User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"},
			{"Accept", "*/*"}, {"Accept-Language", "ja-JP,ja;q=0.9"}, {"Accept-Encoding", "gzip, deflate, br"}, {"Authorization", token},
			{"Sec-Fetch-Dest", "empty"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "cross-site"}, {"If-None-Match", `W/"5f-1a2b3c"`}}, nil},
		client{"Firefox fetch DELETE", "DELETE", "/upload/" + id, [][2]string{
			{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}, {"Accept", "*/*"},
			{"Accept-Language", "de-DE,de;q=0.8,en-US;q=0.5,en;q=0.3"}, {"Accept-Encoding", "gzip, deflate, br, zstd"}, {"Authorization", token},
			{"Origin", "https://app.example.com"}, {"Sec-Fetch-Dest", "empty"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "same-origin"},
			{"Connection", "keep-alive"}, {"TE", "trailers"}}, nil},
		client{"AWS SDK presigned PUT", "PUT", blob, [][2]string{{"User-Agent", "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2"},
			{"Content-Type", "image/jpeg"}, {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}, {"Amz-Sdk-Invocation-Id", "1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b"},
			{"Amz-Sdk-Request", "attempt=1; max=3"}, {"Accept-Encoding", "identity"}, {"Expect", "100-continue"}}, append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), pdf[:2<<20]...)},
		client{"curl presigned PUT text", "PUT", blob, with(curl[:2], [2]string{"Content-Type", "text/plain"}, [2]string{"Expect", "100-continue"}), text.Bytes()},
		client{"curl presigned PUT csv", "PUT", blob, with(curl[:2], [2]string{"Content-Type", "text/csv"}), csv.Bytes()},
		client{"browser presigned GET", "GET", blob, [][2]string{{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
			{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, {"Accept-Language", "fr-FR,fr;q=0.9"},
			{"Sec-Fetch-Dest", "document"}, {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Site", "none"}, {"Sec-Fetch-User", "?1"},
			{"Upgrade-Insecure-Requests", "1"}}, nil},
		client{"health check", "GET", "/health-check", [][2]string{{"User-Agent", "ELB-HealthChecker/2.0"}, {"Accept-Encoding", "gzip"}}, nil},
		client{"stage prefix", "GET", "/Test/test?limit=5", curl, nil},
		client{"behind proxies", "GET", "/test?limit=5", with(curl, [2]string{"X-Forwarded-For", "203.0.113.7, 198.51.100.2, 2001:db8::1"},
			[2]string{"X-Forwarded-Proto", "https"}, [2]string{"X-Forwarded-Host", "api.example.com:443"}, [2]string{"X-Forwarded-Port", "443"},
			[2]string{"Forwarded", `for=192.0.2.60;proto=https;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`}, [2]string{"Via", "1.1 proxy.example.com (squid/6.6)"}), nil},
	)
	return out
}

// TestClientCorpus: every client's exact requests pass the shipped configuration, bodies
// unaltered.
func TestClientCorpus(t *testing.T) {
	s := newStack(t, Config{WAF: shippedWAF(t)})
	cs := clients()
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
			if len(c.body) == 0 {
				r.Body, r.ContentLength = http.NoBody, 0
			} else {
				r.Header.Set("Content-Length", strconv.Itoa(len(c.body)))
			}
			for _, h := range c.header {
				r.Header.Add(h[0], h[1])
			}
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if _, size, _ := s.backend.state(); size != int64(len(c.body)) {
				t.Errorf("backend got %d bytes, want %d", size, len(c.body))
			}
		})
	}
	if len(cs) < 25 {
		t.Errorf("%d clients", len(cs))
	}
}
