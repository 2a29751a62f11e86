package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// send sends a request with a raw body and content type.
func (s *stack) send(method, path, token, contentType string, body io.Reader) response {
	s.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = s.url + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func multipartBody(t *testing.T, field, filename, contentType string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("note", "ignored")
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="` + field + `"; filename="` + filename + `"`}
	h["Content-Type"] = []string{contentType}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = pw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType(), &buf
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// objectCount counts the files of the directory store.
func objectCount(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".attrs") && !strings.Contains(filepath.Base(p), ".tmp") {
			n++
		}
		return nil
	})
	return n
}

func TestDevUploads(t *testing.T) {
	s := startDev(t, t.TempDir(), "--max-upload", "1MiB")
	alice, bob := s.token("--user", "alice"), s.token("--user", "bob")

	// Multipart, with a PNG declared as a PDF: the sniffed type wins. (A file name such as
	// "../../etc/x" never gets here: the WAF blocks it as path traversal; the uploads package's
	// own tests cover how names are sanitized.)
	png := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(3000)...)
	ct, body := multipartBody(t, "file", "report.pdf", "application/pdf", png)
	r := s.send("POST", "/upload", alice, ct, body)
	if r.status != 201 {
		t.Fatalf("multipart: %d %s\n%s", r.status, r.body, s.stderr.String())
	}
	up := r.json(t)
	id := up["upload_id"].(string)
	if up["filename"] != "report.pdf" || up["content_type"] != "image/png" || up["sha256"] != sha(png) || up["size"] != float64(len(png)) || up["status"] != "available" {
		t.Fatalf("metadata: %v", up)
	}
	if r.header.Get("Location") != "/upload/"+id {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}

	// Raw body, then download byte for byte through the signed URL.
	raw := randomBytes(200_000)
	r = s.send("POST", "/upload?filename=data.bin", alice, "application/octet-stream", bytes.NewReader(raw))
	if r.status != 201 {
		t.Fatalf("raw: %d %s", r.status, r.body)
	}
	rawID := r.json(t)["upload_id"].(string)
	meta := s.send("GET", "/upload/"+rawID, alice, "", nil).json(t)
	dl := s.send("GET", meta["download_url"].(string), "", "", nil)
	if dl.status != 200 || !bytes.Equal(dl.body, raw) {
		t.Fatalf("download: %d, %d bytes", dl.status, len(dl.body))
	}
	if cd := dl.header.Get("Content-Disposition"); !strings.Contains(cd, "data.bin") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	redir := s.send("GET", "/upload/"+rawID+"?redirect=true", alice, "", nil)
	if redir.status != 302 || redir.header.Get("Location") == "" {
		t.Fatalf("redirect: %d", redir.status)
	}

	// A tampered signed URL is refused.
	u, _ := url.Parse(meta["download_url"].(string))
	q := u.Query()
	tok := q.Get("token")
	q.Set("token", tok[:len(tok)-2]+"xx")
	u.RawQuery = q.Encode()
	if r := s.send("GET", u.String(), "", "", nil); r.status < 400 || r.status >= 500 {
		t.Fatalf("tampered URL: %d", r.status)
	}

	// Another user sees nothing.
	if r := s.send("GET", "/upload/"+id, bob, "", nil); r.status != 404 {
		t.Fatalf("bob get: %d", r.status)
	}
	if list := s.send("GET", "/upload", bob, "", nil).json(t); len(list["items"].([]any)) != 0 {
		t.Fatalf("bob list: %v", list)
	}
	if list := s.send("GET", "/upload", alice, "", nil).json(t); len(list["items"].([]any)) != 2 {
		t.Fatalf("alice list: %v", list)
	}

	// Past the limit: 413 and nothing left in the store.
	before := objectCount(t, s.dataDir)
	r = s.send("POST", "/upload?filename=big.bin", alice, "application/octet-stream", bytes.NewReader(randomBytes(1<<20+1)))
	if r.status != 413 {
		t.Fatalf("too large: %d %s", r.status, r.body)
	}
	if after := objectCount(t, s.dataDir); after != before {
		t.Fatalf("objects %d → %d after a refused upload", before, after)
	}

	// Bad inputs.
	for _, tc := range []struct {
		name, path, ct string
		body           string
		status         int
	}{
		{"no content type", "/upload?filename=a", "", "x", 415},
		{"raw without filename", "/upload", "text/plain", "x", 400},
		{"multipart without file", "/upload", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n", 400},
		{"broken multipart", "/upload", "multipart/form-data; boundary=b", "garbage", 403}, // the WAF: unparseable body
		{"empty file is fine", "/upload?filename=empty.txt", "text/plain", "", 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := s.send("POST", tc.path, alice, tc.ct, strings.NewReader(tc.body)); r.status != tc.status {
				t.Fatalf("%d %s, want %d\n%s", r.status, r.body, tc.status, s.stderr.String())
			}
		})
	}

	// Delete removes the row and the object.
	if r := s.send("DELETE", "/upload/"+rawID, alice, "", nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := s.send("GET", "/upload/"+rawID, alice, "", nil); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
	if r := s.send("GET", meta["download_url"].(string), "", "", nil); r.status != 404 {
		t.Fatalf("download after delete: %d", r.status)
	}
}

func TestDevPresignedUpload(t *testing.T) {
	s := startDev(t, t.TempDir(), "--max-upload", "1MiB")
	alice := s.token("--user", "alice")
	data := randomBytes(3 << 20) // larger than --max-upload
	r := s.do("POST", "/upload/presign", alice, `{"filename":"big.bin","content_type":"application/octet-stream","size":3145728}`)
	if r.status != 201 {
		t.Fatalf("presign: %d %s", r.status, r.body)
	}
	p := r.json(t)
	id := p["upload_id"].(string)
	if m := s.send("GET", "/upload/"+id, alice, "", nil).json(t); m["status"] != "pending" || m["download_url"] != nil {
		t.Fatalf("pending upload: %v", m)
	}
	if r := s.do("POST", "/upload/"+id+"/complete", alice, ""); r.status != 409 {
		t.Fatalf("complete before upload: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(p["method"].(string), p["url"].(string), bytes.NewReader(data))
	for k, v := range p["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	r = s.do("POST", "/upload/"+id+"/complete", alice, "")
	if r.status != 200 || r.json(t)["sha256"] != sha(data) || r.json(t)["status"] != "available" {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	meta := s.send("GET", "/upload/"+id, alice, "", nil).json(t)
	if dl := s.send("GET", meta["download_url"].(string), "", "", nil); !bytes.Equal(dl.body, data) {
		t.Fatalf("download of the presigned upload differs (%d bytes)", len(dl.body))
	}
	// A second PUT to the same URL cannot replace the object.
	req, _ = http.NewRequest(p["method"].(string), p["url"].(string), bytes.NewReader(data))
	for k, v := range p["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode < 400 {
		t.Fatalf("second PUT: %v %v", err, resp.StatusCode)
	}
	for _, body := range []string{`{"filename":"x","content_type":"application/pdf","size":-1}`, `{"filename":"x","content_type":"pdf","size":1}`, `{"filename":"","content_type":"application/pdf","size":1}`, `{"filename":"x","content_type":"application/pdf","size":6000000000}`, `{"filename":"x","content_type":"application/pdf"}`} {
		if r := s.do("POST", "/upload/presign", alice, body); r.status != 400 {
			t.Errorf("presign %s: %d", body, r.status)
		}
	}
}
