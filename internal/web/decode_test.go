package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/problem"
)

type sample struct {
	Name *string        `json:"name"`
	Data map[string]any `json:"data"`
	N    int            `json:"n"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name        string
		contentType string
		body        string
		max         int64
		status      int // 0 = success
		detail      string
	}{
		{"ok", "application/json", `{"name":"a"}`, 1024, 0, ""},
		{"ok charset", "application/json; charset=utf-8", `{"name":"a"}`, 1024, 0, ""},
		{"no content type", "", `{"name":"a"}`, 1024, 415, "Content-Type"},
		{"text/plain", "text/plain", `{"name":"a"}`, 1024, 415, "Content-Type"},
		{"latin1", "application/json; charset=latin1", `{"name":"a"}`, 1024, 415, "charset"},
		{"empty", "application/json", ``, 1024, 400, "empty"},
		{"whitespace", "application/json", "  \n", 1024, 400, "empty"},
		{"malformed", "application/json", `{"name":`, 1024, 400, "malformed"},
		{"syntax", "application/json", `{"name" "a"}`, 1024, 400, "malformed JSON at byte"},
		{"unknown field", "application/json", `{"nam":"a"}`, 1024, 400, `unknown field "nam"`},
		{"wrong type", "application/json", `{"name":1}`, 1024, 400, `field "name" must be a string`},
		{"wrong type nested", "application/json", `{"data":[1]}`, 1024, 400, `field "data" must be an object`},
		{"array body", "application/json", `[1]`, 1024, 400, "body must be an object"},
		{"trailing", "application/json", `{"name":"a"} {}`, 1024, 400, "single JSON value"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("a", 100) + `"}`, 50, 413, "exceeds 50 bytes"},
		{"number overflow", "application/json", `{"n":1e400}`, 1024, 400, `field "n"`},
		{"invalid UTF-8 in a value", "application/json", "{\"name\":\"a\xff\xfeb\"}", 1024, 400, "UTF-8"},
		{"invalid UTF-8 in a key", "application/json", "{\"\xff\":1}", 1024, 400, "UTF-8"},
		{"lone surrogate", "application/json", `{"name":"\udc00"}`, 1024, 400, "surrogate"},
		{"surrogate pair", "application/json", `{"name":"\ud83d\ude00"}`, 1024, 0, ""},
		{"unknown field, case kept", "application/json", `{"name":"a","Extra":1}`, 1024, 400, `unknown field "Extra"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var dst sample
			err := DecodeJSON(httptest.NewRecorder(), r, tc.max, &dst)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v is not a problem", err)
			}
			if p.Status != tc.status || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("got %d %q, want %d containing %q", p.Status, p.Detail, tc.status, tc.detail)
			}
		})
	}
}

// FuzzDecodeJSONBytes: any body either decodes or yields a 4xx problem; never a panic or 5xx.
func FuzzDecodeJSONBytes(f *testing.F) {
	for _, s := range []string{`{"name":"a","data":{"k":[1,2,{"x":null}]}}`, `{`, `[]`, `null`, `{"n":1e999}`, "{\"name\":\"\xff\"}", `{"name":"a"}{"name":"b"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst sample
		err := DecodeJSONBytes(body, &dst)
		if err == nil {
			return
		}
		var p *problem.Problem
		if !errors.As(err, &p) || p.Status < 400 || p.Status > 499 {
			t.Fatalf("body %q: error %v is not a 4xx problem", body, err)
		}
	})
}
