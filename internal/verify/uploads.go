package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"strings"
)

// upload is an upload's metadata as the API returns it.
type upload struct {
	UploadID    string `json:"upload_id"`
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Status      string `json:"status"`
	DownloadURL string `json:"download_url"`
}

type presigned struct {
	UploadID string            `json:"upload_id"`
	URL      string            `json:"url"`
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// wantUpload checks an upload's metadata against the bytes it should hold.
func wantUpload(res *response, status int, content []byte, u *upload) error {
	if err := wantJSON(res, status, u); err != nil {
		return err
	}
	switch {
	case u.UploadID == "":
		return failf("an upload_id", "%s", res)
	case u.Status != "available":
		return failf(`"status":"available"`, "%q", u.Status)
	case u.Size != int64(len(content)):
		return failf(fmt.Sprintf("size %d", len(content)), "%d", u.Size)
	case u.SHA256 != sum(content):
		return failf("sha256 "+sum(content), "%q", u.SHA256)
	}
	return nil
}

// uploads checks the uploads service: a direct upload (raw and multipart), the presigned
// flow (presign → PUT → complete → download), reading, listing, ownership and deletion. The
// files are small and on one line, so that no WAF rule on bodies is in play.
func (s *suite) uploads(ctx context.Context) {
	run := runID()
	raw := []byte("decagon verify " + run)
	var direct upload
	ok := s.check("uploads: POST /upload with raw bytes is 201 with their size and SHA-256", func() error {
		res, err := s.do(ctx, request{method: "POST", path: "/upload?filename=verify-" + run + ".txt", token: s.cfg.Token, body: raw, contentType: "text/plain"})
		if err != nil {
			return err
		}
		if res.status == 404 {
			// The stage routes no /upload: a deployment without the uploads service.
			s.noUploads = "this stage has no uploads (POST /upload answered 404)"
			return skipped{s.noUploads}
		}
		return wantUpload(res, 201, raw, &direct)
	})
	if s.noUploads != "" {
		return
	}
	if ok {
		s.download(ctx, "uploads: GET /upload/{upload_id} has a download_url that returns the bytes", direct.UploadID, raw)
		s.check("uploads: GET /upload lists it first", func() error {
			res, err := s.do(ctx, request{method: "GET", path: "/upload", token: s.cfg.Token})
			if err != nil {
				return err
			}
			var page struct {
				Items []upload `json:"items"`
			}
			if err := wantJSON(res, 200, &page); err != nil {
				return err
			}
			if len(page.Items) == 0 || page.Items[0].UploadID != direct.UploadID {
				return failf("items[0].upload_id "+direct.UploadID, "%s", res)
			}
			return nil
		})
		s.otherUser(ctx, "uploads", "/upload/"+direct.UploadID)
		s.deleted(ctx, "uploads: DELETE /upload/{upload_id} is 204, then GET is 404", "/upload/"+direct.UploadID)
	}
	s.check("uploads: POST /upload with multipart/form-data is 201 with the part's name and size", func() error {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, err := mw.CreateFormFile("file", "verify-"+run+".txt")
		if err != nil {
			return err
		}
		_, _ = fw.Write(raw)
		if err := mw.Close(); err != nil {
			return err
		}
		res, err := s.do(ctx, request{method: "POST", path: "/upload", token: s.cfg.Token, body: body.Bytes(), contentType: mw.FormDataContentType()})
		if err != nil {
			return err
		}
		var u upload
		if err := wantUpload(res, 201, raw, &u); err != nil {
			return err
		}
		if u.Filename != "verify-"+run+".txt" {
			return failf("filename verify-"+run+".txt", "%q", u.Filename)
		}
		return nil
	})
	s.presigned(ctx, run)
	s.check("uploads: POST /upload/presign with a size over 5 GiB is 400", func() error {
		res, err := s.doJSON(ctx, "POST", "/upload/presign", s.cfg.Token, map[string]any{
			"filename": "verify.bin", "content_type": "application/octet-stream", "size": int64(5<<30) + 1,
		}, nil)
		if err != nil {
			return err
		}
		return wantProblem(res, 400)
	})
}

// presigned checks presign → PUT → complete → download, and that complete refuses to run early.
func (s *suite) presigned(ctx context.Context, run string) {
	content := []byte("decagon verify presigned " + run)
	var p presigned
	if !s.check("uploads: POST /upload/presign is 201 with a PUT URL and its headers", func() error {
		res, err := s.doJSON(ctx, "POST", "/upload/presign", s.cfg.Token, map[string]any{
			"filename": "verify-" + run + ".bin", "content_type": "application/octet-stream", "size": len(content),
		}, nil)
		if err != nil {
			return err
		}
		if err := wantJSON(res, 201, &p); err != nil {
			return err
		}
		if p.UploadID == "" || p.Method != "PUT" || !strings.HasPrefix(p.URL, "http") {
			return failf("upload_id, method PUT and an http(s) url", "%s", res)
		}
		return nil
	}) {
		s.skip("uploads: the presigned flow", "presign failed")
		return
	}
	complete := "/upload/" + p.UploadID + "/complete"
	s.check("uploads: POST /upload/{upload_id}/complete before the PUT is 409", func() error {
		res, err := s.do(ctx, request{method: "POST", path: complete, token: s.cfg.Token})
		if err != nil {
			return err
		}
		return wantProblem(res, 409)
	})
	if !s.check("uploads: PUT to the presigned URL with its headers is 2xx", func() error {
		req := request{method: "PUT", path: p.URL, body: content, header: map[string]string{}}
		for k, v := range p.Headers {
			req.header[k] = v
		}
		res, err := s.do(ctx, req)
		if err != nil {
			return err
		}
		if res.status < 200 || res.status > 299 {
			return failf("2xx", "%s", res)
		}
		return nil
	}) {
		s.skip("uploads: the rest of the presigned flow", "the PUT failed")
		return
	}
	s.check("uploads: POST /upload/{upload_id}/complete is 200 available with the SHA-256", func() error {
		res, err := s.do(ctx, request{method: "POST", path: complete, token: s.cfg.Token})
		if err != nil {
			return err
		}
		var u upload
		return wantUpload(res, 200, content, &u)
	})
	s.download(ctx, "uploads: the completed upload's download_url returns the bytes", p.UploadID, content)
	s.check("uploads: GET /upload/{upload_id}?redirect=true is 302 to the bytes", func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/upload/" + p.UploadID + "?redirect=true", token: s.cfg.Token})
		if err != nil {
			return err
		}
		if err := wantStatus(res, 302); err != nil {
			return err
		}
		loc := res.header.Get("Location")
		if res, err = s.do(ctx, request{method: "GET", path: loc}); err != nil {
			return err
		}
		return wantBytes(res, content)
	})
	s.deleted(ctx, "uploads: DELETE of a presigned upload is 204, then GET is 404", "/upload/"+p.UploadID)
}

// download reads an upload's metadata and fetches its download_url, without a token: the URL
// carries its own signature.
func (s *suite) download(ctx context.Context, name, id string, content []byte) {
	s.check(name, func() error {
		res, err := s.do(ctx, request{method: "GET", path: "/upload/" + id, token: s.cfg.Token})
		if err != nil {
			return err
		}
		var u upload
		if err := wantUpload(res, 200, content, &u); err != nil {
			return err
		}
		if !strings.HasPrefix(u.DownloadURL, "http") {
			return failf("a download_url", "%q", u.DownloadURL)
		}
		if res, err = s.do(ctx, request{method: "GET", path: u.DownloadURL}); err != nil {
			return err
		}
		return wantBytes(res, content)
	})
}

func wantBytes(res *response, content []byte) error {
	if err := wantStatus(res, 200); err != nil {
		return err
	}
	if !bytes.Equal(res.body, content) {
		return failf(fmt.Sprintf("the %d bytes uploaded", len(content)), "%s", res)
	}
	return nil
}

// deleted deletes the resource at path and checks that it is gone.
func (s *suite) deleted(ctx context.Context, name, path string) {
	s.check(name, func() error {
		res, err := s.do(ctx, request{method: "DELETE", path: path, token: s.cfg.Token})
		if err != nil {
			return err
		}
		if err := wantStatus(res, 204); err != nil {
			return err
		}
		if res, err = s.do(ctx, request{method: "GET", path: path, token: s.cfg.Token}); err != nil {
			return err
		}
		return wantProblem(res, 404)
	})
}
