package waf

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/web"
)

// TestLargeUploadsPass: 10 MB bodies (raw binary, multipart, JSON) are neither refused for
// their size nor altered: the backend gets every byte.
func TestLargeUploadsPass(t *testing.T) {
	blob := make([]byte, 10<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("description", "Quarterly report – O'Brien's copy")
	fw, _ := mw.CreateFormFile("file", "report.bin")
	_, _ = fw.Write(blob)
	_ = mw.Close()
	bigJSON := `{"name":"big","data":{"rows":"` + strings.Repeat("select the best option from the menu; ", 270_000) + `"}}`

	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"octet-stream", "application/octet-stream", blob},
		{"multipart", mw.FormDataContentType(), mp.Bytes()},
		{"json", "application/json", []byte(bigJSON)},
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(t, request{method: "POST", target: "/upload", contentType: tt.contentType, body: string(tt.body)})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s; log %v", rec.Code, rec.Body, s.logs.records(t))
			}
			_, size, digest := s.backend.state()
			want := sha256.Sum256(tt.body)
			if size != int64(len(tt.body)) || !bytes.Equal(digest, want[:]) {
				t.Fatalf("backend got %d bytes (sha256 %x), want %d (%x)", size, digest, len(tt.body), want)
			}
		})
	}
}

// TestBodyInspectionLimit: a body outside the document's scopes (here a path of no operation,
// which the stage answers 404) is inspected up to RequestBodyLimit and the rest passes
// unread (oversize handling CONTINUE): an attack inside the prefix is refused, also when the
// body goes on past the limit; past the limit it is not seen.
func TestBodyInspectionLimit(t *testing.T) {
	attack := `"q":"1' UNION SELECT password FROM users--","x":"<script>alert(1)</script>"`
	pad := `"pad":"` + strings.Repeat("a", 20<<10) + `"`
	tests := []struct {
		name, body string
		want       int
	}{
		{"small, clean", `{"name":"ok"}`, http.StatusOK},
		{"small, attack", `{` + attack + `}`, http.StatusForbidden},
		{"large, attack in prefix", `{` + attack + `,` + pad + `}`, http.StatusForbidden},
		{"large, attack past limit", `{` + pad + `,` + attack + `}`, http.StatusOK},
		{"large, clean", `{` + pad + `}`, http.StatusOK},
		{"exactly the limit, broken", `{"a":"` + strings.Repeat("b", 16<<10-7), http.StatusForbidden},
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(t, request{method: "POST", target: "/not-an-operation", contentType: "application/json", body: tt.body})
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

// TestBodyStreams: the WAF hands the body on after its inspected prefix, without waiting for
// the rest: the backend reads the start of an upload while the client has not sent the end.
func TestBodyStreams(t *testing.T) {
	w, err := New(shipped(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB, past the limit
	gotFirst := make(chan struct{})
	srv := httptest.NewServer(web.RequestIDs(slog.Default(), w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		buf := make([]byte, len(first))
		if _, err := io.ReadFull(r.Body, buf); err != nil || !bytes.Equal(buf, first) {
			http.Error(rw, fmt.Sprintf("first part: %v", err), http.StatusBadRequest)
			return
		}
		close(gotFirst)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(rw, n)
	}))))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(first)
		select {
		case <-gotFirst: // only then the rest: a buffering WAF would never call the backend
			_, _ = pw.Write(bytes.Repeat([]byte("z"), 1<<20))
			_ = pw.Close()
		case <-ctx.Done():
			_ = pw.CloseWithError(ctx.Err())
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/upload", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v (did the WAF wait for the whole body?)", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != fmt.Sprint(1<<20) {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}
