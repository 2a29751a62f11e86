package topology

import (
	"errors"
	"strings"
	"testing"
)

// TestWAFBody: the body scopes decode, take their defaults when absent (a JSON body is never
// passed unread by default) and are validated with their key paths.
func TestWAFBody(t *testing.T) {
	topo, err := Parse([]byte(svc("")))
	if err != nil {
		t.Fatal(err)
	}
	if b := topo.WAF.Body; b.JSON != (BodyScope{InspectLimit: DefaultJSONInspectLimit, Oversize: OversizeMatch}) ||
		b.Upload != (BodyScope{InspectLimit: DefaultRequestBodyLimit, Oversize: OversizeContinue}) {
		t.Errorf("defaults %+v", b)
	}
	topo, err = Parse([]byte(svc("") + "waf: {body: {json: {oversize: NO_MATCH}, upload: {inspectLimit: 65536}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b := topo.WAF.Body; b.JSON.Oversize != OversizeNoMatch || b.JSON.InspectLimit != DefaultJSONInspectLimit || b.Upload.InspectLimit != 65536 {
		t.Errorf("decoded %+v", b)
	}
	for _, tt := range []struct{ doc, path, msg string }{
		{"waf: {body: {json: {oversize: DROP}}}\n", "waf.body.json.oversize", "CONTINUE, MATCH, NO_MATCH"},
		{"waf: {body: {upload: {inspectLimit: 100}}}\n", "waf.body.upload.inspectLimit", "between 1024 and 1048576"},
		{"waf: {body: {json: {inspectLimit: 2000000}}}\n", "waf.body.json.inspectLimit", "between 1024 and 1048576"},
		{"waf: {body: {xml: {}}}\n", "waf.body.xml", ""},
	} {
		_, err := Parse([]byte(svc("") + tt.doc))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != tt.path || !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("%s: error %v, want %s: ...%s", strings.TrimSpace(tt.doc), err, tt.path, tt.msg)
		}
	}
}

// TestWAFValidate: Validate, for values built in Go, runs Parse's rules.
func TestWAFValidate(t *testing.T) {
	if err := DefaultWAF().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	w := DefaultWAF()
	w.Mode, w.RateLimit.Window = "drop", 0
	err := w.Validate()
	if err == nil || !strings.Contains(err.Error(), "waf.mode") || !strings.Contains(err.Error(), "waf.rateLimit.window") {
		t.Fatalf("error %v", err)
	}
}
