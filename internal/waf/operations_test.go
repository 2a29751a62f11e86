package waf

import (
	"testing"
)

// TestScopeOf: the scope of a body follows what api/openapi.yaml declares for the operation
// addressed, at /{path} and /{stage}/{path}.
func TestScopeOf(t *testing.T) {
	ops, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	const id = "0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"
	tests := []struct {
		method, path, contentType string
		want                      scope
	}{
		{"POST", "/test", "application/json", scopeJSON},
		{"POST", "/test", "application/json; charset=utf-8", scopeJSON},
		{"POST", "/Test/test", "Application/JSON", scopeJSON},
		{"POST", "/upload/presign", "application/json", scopeJSON},
		{"POST", "/test", "text/plain", scopeText},
		{"POST", "/test", "", scopeText},
		{"POST", "/test", "application/x-www-form-urlencoded", scopeForm},
		{"POST", "/test", "Application/X-WWW-Form-Urlencoded; charset=utf-8", scopeForm},
		{"POST", "/upload/presign", "application/x-www-form-urlencoded", scopeForm},
		{"POST", "/test", "application/xml", scopeText},
		{"POST", "/test", "not a media type;;", scopeText},
		{"POST", "/upload", "multipart/form-data; boundary=x", scopeMultipart},
		{"POST", "/upload", "text/csv", scopeFile},
		{"POST", "/upload", "application/json", scopeFile},
		{"POST", "/upload", "", scopeFile},
		{"PUT", "/upload/_blob/uploads/5f0c3e1a/" + id, "text/plain", scopeFile},
		{"POST", "/upload/" + id + "/complete", "application/json", scopeGeneric}, // declares no body
		{"GET", "/test", "application/json", scopeGeneric},
		{"POST", "/nope", "application/json", scopeGeneric},
		{"POST", "/test/extra/segments", "application/json", scopeGeneric},
		{"DELETE", "/test/" + id, "application/json", scopeGeneric},
	}
	for _, tt := range tests {
		if got := findOperation(ops, tt.method, tt.path).scopeOf(tt.contentType); got != tt.want {
			t.Errorf("%s %s (%q): scope %s, want %s", tt.method, tt.path, tt.contentType, got, tt.want)
		}
	}
}

// FuzzScopeOf: any method, path and content type (all from the client) get a scope without
// panicking, and an operation found matches the method and the number of segments.
func FuzzScopeOf(f *testing.F) {
	ops, err := loadOperations()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("POST", "/test", "application/json")
	f.Add("PUT", "/Test/upload/_blob/uploads/a/b", "multipart/form-data; boundary=\"x\"")
	f.Add("GET", "//", ";")
	f.Fuzz(func(t *testing.T, method, path, contentType string) {
		o := findOperation(ops, method, path)
		if o != nil && o.method != method {
			t.Fatalf("%s %s: found %s", method, path, o.method)
		}
		if s := o.scopeOf(contentType); s < scopeGeneric || s > scopeText {
			t.Fatalf("scope %d", s)
		}
	})
}
