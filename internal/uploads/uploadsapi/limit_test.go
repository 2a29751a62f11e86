package uploadsapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/blob/blobtest"
)

// multipartBody is a form with a small text field and the file part holding size bytes.
func multipartBody(size int) (string, io.Reader) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("note", "quarterly figures")
	fw, _ := mw.CreateFormFile("file", "Q3 report – O'Brien (final).pdf")
	_, _ = fw.Write(bytes.Repeat([]byte{'x'}, size))
	_ = mw.Close()
	return mw.FormDataContentType(), &form
}

// TestMaxUploadCountsTheFile (issue 11 item 7): the limit is the file's size, whether the file
// comes raw or inside a multipart envelope; one byte more is a 413 problem.
func TestMaxUploadCountsTheFile(t *testing.T) {
	const limit = 256 << 10
	srv := server(t, blobtest.NewFile(t), limit)
	for _, c := range []struct {
		name      string
		multipart bool
		size      int
		want      int
	}{
		{"multipart, exactly the limit", true, limit, 201},
		{"multipart, limit+1", true, limit + 1, 413},
		{"multipart, far over", true, 2 * limit, 413},
		{"raw, exactly the limit", false, limit, 201},
		{"raw, limit+1", false, limit + 1, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct, body := "application/octet-stream", io.Reader(bytes.NewReader(bytes.Repeat([]byte{'x'}, c.size)))
			url := srv.URL + "/upload?filename=f.bin"
			if c.multipart {
				ct, body = multipartBody(c.size)
				url = srv.URL + "/upload"
			}
			r := call(t, "POST", url, "alice", ct, body, nil)
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if c.want == 201 && decode(t, r.body)["size"] != float64(c.size) {
				t.Fatalf("stored %v bytes, want %d", decode(t, r.body)["size"], c.size)
			}
			if c.want == 413 && r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("413 without a problem: %s", r.header.Get("Content-Type"))
			}
		})
	}
}

// TestBrokenBodiesAreTheClients (issue 10 item 2): malformed multipart is a 400 problem whose
// detail says what to do and repeats no internal error text.
func TestBrokenBodiesAreTheClients(t *testing.T) {
	srv := server(t, blobtest.NewFile(t), 1<<20)
	for name, c := range map[string]struct{ ct, body string }{
		"no boundary":          {"multipart/form-data", "x"},
		"garbage":              {"multipart/form-data; boundary=b", "not a multipart body"},
		"cut in the file part": {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"},
		"no file part":         {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc\r\n--b--\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			r := call(t, "POST", srv.URL+"/upload", "alice", c.ct, strings.NewReader(c.body), nil)
			var p struct{ Detail string }
			if r.status != 400 || json.Unmarshal(r.body, &p) != nil {
				t.Fatalf("status %d: %s; want a 400 problem", r.status, r.body)
			}
			for _, leak := range []string{"multipart: ", "NextPart", "EOF", "read request body", "invalid:"} {
				if strings.Contains(p.Detail, leak) {
					t.Errorf("detail %q leaks %q", p.Detail, leak)
				}
			}
		})
	}
}
