package verify

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The suite reads whatever a stage answers: no body, header or path may make a check panic, and
// a body that is not a complete problem document is never accepted as one.
func FuzzResponseChecks(f *testing.F) {
	f.Add(401, "application/problem+json", []byte(`{"type":"about:blank","title":"Unauthorized","status":401,"request_id":"r"}`), "/test/{test_id}", "/test/x")
	f.Add(200, "application/json; charset=utf-8", []byte(`{"upload_id":"u","size":3,"sha256":"x","status":"available"}`), "/upload", "/upload/")
	f.Add(404, "text/plain", []byte("not found"), "/", "//")
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, template, path string) {
		r := &response{status: status, header: http.Header{"Content-Type": {contentType}}, body: body}
		if wantProblem(r, status) == nil {
			if mediaType(r.header) != "application/problem+json" || !json.Valid(body) {
				t.Errorf("accepted as a problem: %d %q %q", status, contentType, body)
			}
		}
		_ = wantJSON(r, status, &upload{})
		_ = wantUpload(r, status, body, &upload{})
		_ = wantBytes(r, body)
		_ = r.String()
		_ = match(template, path)
		_ = placeholder(template)
	})
}
