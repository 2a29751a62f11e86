package api

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestLoadValidates(t *testing.T) {
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
}

func TestOperationsSecurity(t *testing.T) {
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		t.Fatal("no operations")
	}
	for _, o := range ops {
		if o.ID == "" {
			t.Errorf("%s has no operationId", o.Pattern())
		}
		if public := o.Path == "/health-check" || strings.HasPrefix(o.Path, "/upload/_blob/"); o.Public != public {
			t.Errorf("%s: public = %v, want %v", o.Pattern(), o.Public, public)
		}
	}
}

// TestOperationsOfSecurity: the one reading of security that the edge and the services share.
func TestOperationsOfSecurity(t *testing.T) {
	const head = `openapi: 3.0.3
info: {title: t, version: "1"}
components:
  securitySchemes:
    cognito: {type: apiKey, name: Authorization, in: header}
    other: {type: apiKey, name: X-Key, in: header}
`
	ok := head + `security: [{cognito: []}]
paths:
  /doc-level:
    get: {responses: {"200": {description: ok}}}
  /public:
    get: {security: [], responses: {"200": {description: ok}}}
  /scoped:
    post:
      security: [{cognito: [decagon/write]}, {cognito: [decagon/admin]}]
      responses: {"200": {description: ok}}
`
	doc, err := openapi3.NewLoader().LoadFromData([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := OperationsOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		public bool
		scopes string
	}{
		"GET /doc-level": {false, ""},
		"GET /public":    {true, ""},
		"POST /scoped":   {false, "decagon/admin decagon/write"},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d operations, want %d", len(ops), len(want))
	}
	for _, o := range ops {
		w := want[o.Pattern()]
		if o.Public != w.public || strings.Join(o.Scopes, " ") != w.scopes {
			t.Errorf("%s: public %v scopes %q, want %v %q", o.Pattern(), o.Public, o.Scopes, w.public, w.scopes)
		}
	}
	for name, paths := range map[string]string{
		"another scheme":      "  /x:\n    get: {security: [{other: []}], responses: {\"200\": {description: ok}}}\n",
		"empty requirement":   "  /x:\n    get: {security: [{}], responses: {\"200\": {description: ok}}}\n",
		"another scheme, too": "  /x:\n    get: {security: [{cognito: [], other: []}], responses: {\"200\": {description: ok}}}\n",
	} {
		doc, err := openapi3.NewLoader().LoadFromData([]byte(head + "paths:\n" + paths))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := OperationsOf(doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
