package waf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/topology"
)

// jsonOperations lists the operations of api/openapi.yaml whose request body is JSON, with a
// concrete path for each (path parameters filled in).
func jsonOperations(t *testing.T) []string {
	t.Helper()
	ops, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range ops {
		for _, m := range o.media {
			if isJSON(m) {
				segs := make([]string, len(o.segments))
				for i, s := range o.segments {
					if strings.HasPrefix(s, "{") {
						s = "0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"
					}
					segs[i] = s
				}
				out = append(out, o.method+" /"+strings.Join(segs, "/"))
				break
			}
		}
	}
	if len(out) < 2 {
		t.Fatalf("only %d JSON operations in api/openapi.yaml: %v", len(out), out)
	}
	return out
}

// TestMalformedJSONReachesTheStage: malformed JSON on every JSON operation of the document
// (not a hand-kept list) passes the WAF, at /{path} and /{stage}/{path}, so that the stage
// answers its 400; the same body on a path of no operation is still refused (200002).
func TestMalformedJSONReachesTheStage(t *testing.T) {
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, op := range jsonOperations(t) {
		method, path, _ := strings.Cut(op, " ")
		for _, p := range []string{path, "/Test" + path} {
			for _, body := range []string{`{"name":"x",`, `{"name":}`, `not json at all`, `{"a":"b"}}`} {
				rec := s.do(t, request{method: method, target: p, contentType: "application/json", body: body})
				if rec.Code != http.StatusOK {
					t.Errorf("%s %s %q: status %d, want it passed to the stage", method, p, body, rec.Code)
				}
			}
		}
	}
	rec := s.do(t, request{method: "POST", target: "/not-an-operation", contentType: "application/json", body: `{"name":"x",`})
	if rec.Code != http.StatusForbidden {
		t.Errorf("malformed JSON off the document: status %d, want 403", rec.Code)
	}
}

// TestJSONInspectedWhole: the shipped JSON scope inspects bodies as large as the document
// allows, so an attack after 20 KiB or 60 KiB of JSON is refused; a body past the limit is
// refused unread (oversize MATCH), never passed.
func TestJSONInspectedWhole(t *testing.T) {
	cfg := shippedWAF(t)
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The document bounds data at 64 KiB once encoded; name and the envelope add at most a few
	// KiB (name: 200 characters, escaped at most 6 bytes each).
	data := doc.Components.Schemas["NewTest"].Value.Properties["data"].Value
	if !strings.Contains(data.Description, "64 KiB") {
		t.Fatalf("NewTest.data no longer says 64 KiB (%q): update the bound here", data.Description)
	}
	if bound := 64<<10 + 200*6 + 64; cfg.Body.JSON.InspectLimit < bound || cfg.Body.JSON.Oversize != topology.OversizeMatch {
		t.Fatalf("shipped JSON scope %+v does not cover the document's bound %d", cfg.Body.JSON, bound)
	}
	attack := `"q":"1' UNION SELECT password FROM users--"`
	pad := func(n int) string {
		return `"pad":"` + strings.Repeat("the quick brown fox jumps over the lazy dog ", n/44) + `"`
	}
	tests := []struct {
		name, body string
		want       int
	}{
		{"attack after 20 KiB", `{"name":"x","data":{` + pad(20<<10) + `,` + attack + `}}`, http.StatusForbidden},
		{"attack after 60 KiB", `{"name":"x","data":{` + pad(60<<10) + `,` + attack + `}}`, http.StatusForbidden},
		{"xss after 60 KiB", `{"name":"x","data":{` + pad(60<<10) + `,"x":"<script>alert(1)</script>"}}`, http.StatusForbidden},
		{"clean 64 KiB", `{"name":"x","data":{` + pad(64<<10) + `}}`, http.StatusOK},
		{"past the limit", `{"name":"x","data":{` + pad(cfg.Body.JSON.InspectLimit+100) + `}}`, http.StatusForbidden},
	}
	s := newStack(t, Config{WAF: cfg})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range []string{"/test", "/upload/presign"} {
				if rec := s.do(t, request{method: "POST", target: target, contentType: "application/json", body: tt.body}); rec.Code != tt.want {
					t.Errorf("%s: status %d, want %d", target, rec.Code, tt.want)
				}
			}
		})
	}
	recs := s.logs.records(t)
	if last := recs[len(recs)-1]; last["terminatingRuleId"] != ruleOversize {
		t.Errorf("oversized body: terminating rule %v, want %s", last["terminatingRuleId"], ruleOversize)
	}
}

// TestOversizeHandling: the three AWS WAF behaviours on a JSON body past the limit, with an
// attack past the limit and one inside it.
func TestOversizeHandling(t *testing.T) {
	head := `{"name":"x","data":{"pad":"` + strings.Repeat("a", 2<<10) + `"`
	tail := `,"q":"1' UNION SELECT password FROM users--"}}`
	lateAttack := head + `,"more":"` + strings.Repeat("b", 4<<10) + `"` + tail
	early := `{"name":"<script>alert(1)</script>","data":{"pad":"` + strings.Repeat("a", 6<<10) + `"}}`
	tests := []struct {
		oversize    string
		late, early int
	}{
		{topology.OversizeContinue, http.StatusOK, http.StatusForbidden},
		{topology.OversizeMatch, http.StatusForbidden, http.StatusForbidden},
		{topology.OversizeNoMatch, http.StatusOK, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.oversize, func(t *testing.T) {
			s := newStack(t, shipped(func(w *topology.WAF) { w.Body.JSON = topology.BodyScope{InspectLimit: 4 << 10, Oversize: tt.oversize} }))
			if rec := s.do(t, request{method: "POST", target: "/test", contentType: "application/json", body: lateAttack}); rec.Code != tt.late {
				t.Errorf("attack past the limit: status %d, want %d", rec.Code, tt.late)
			}
			if rec := s.do(t, request{method: "POST", target: "/test", contentType: "application/json", body: early}); rec.Code != tt.early {
				t.Errorf("attack inside the limit of an oversized body: status %d, want %d", rec.Code, tt.early)
			}
			// The URI and headers are inspected whatever the body's size.
			if rec := s.do(t, request{method: "POST", target: "/test?q=%3Cscript%3Ealert(1)%3C/script%3E", contentType: "application/json", body: lateAttack}); rec.Code != http.StatusForbidden {
				t.Errorf("attack in the query of an oversized body: status %d", rec.Code)
			}
		})
	}
}

// TestUndeclaredContentType: a body whose content type the operation does not declare is
// inspected as AWS WAF (which runs before API Gateway) inspects it: an attack in it is refused
// (403), a clean one passes to the stage, whose 415 answers the type (the test's backend stands
// in for the stage), without CRS refusing the type itself (920420, 920340). A form is read as
// its arguments, anything else as one text, within the JSON scope's limit and oversize
// handling.
func TestUndeclaredContentType(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name string
		rq   request
		want int
	}{
		{"attack form", request{method: "POST", target: "/test", contentType: form, body: "name=x&q=" + url.QueryEscape("1' UNION SELECT password FROM users--")}, http.StatusForbidden},
		{"xss form", request{method: "POST", target: "/test", contentType: form, body: "q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"}, http.StatusForbidden},
		{"nosql form key", request{method: "POST", target: "/upload/presign", contentType: form, body: "user[$ne]=1"}, http.StatusForbidden},
		{"attack form, stage prefix", request{method: "POST", target: "/Test/test", contentType: form, body: "cmd=" + url.QueryEscape(";cat /etc/passwd")}, http.StatusForbidden},
		{"clean form", request{method: "POST", target: "/test", contentType: form, body: "name=O%27Brien%27s+test&note=select+the+best+option&url=https%3A%2F%2Fexample.com%2Fa%3Fb%3Dc"}, http.StatusOK},
		{"clean form, bad escape", request{method: "POST", target: "/upload/presign", contentType: form, body: "a=b&c=d%"}, http.StatusOK},
		{"attack text", request{method: "POST", target: "/test", contentType: "text/plain", body: "name=x\nselect * from users where 1=1 union select password from users --\n"}, http.StatusForbidden},
		{"xss text", request{method: "POST", target: "/test", contentType: "text/plain", body: "hello <script>alert(1)</script>"}, http.StatusForbidden},
		{"ssti no type", request{method: "POST", target: "/test", body: "{{7*7}}"}, http.StatusForbidden},
		{"xxe xml", request{method: "POST", target: "/upload/presign", contentType: "application/xml", body: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`}, http.StatusForbidden},
		{"clean multi-line text", request{method: "POST", target: "/test", contentType: "text/plain", body: "name: quarterly numbers\nnote: we'll update the table later; see https://example.com/a?b=c\n"}, http.StatusOK},
		{"clean yaml", request{method: "POST", target: "/test", contentType: "application/x-yaml", body: "name: x\n"}, http.StatusOK},
		{"clean xml, not closed", request{method: "POST", target: "/upload/presign", contentType: "application/xml", body: "<not closed"}, http.StatusOK},
		{"clean text, no type", request{method: "POST", target: "/test", body: "just some words"}, http.StatusOK},
		{"JSON sent as text", request{method: "POST", target: "/test", contentType: "text/plain", body: `{"name":"a"}`}, http.StatusOK},
		{"JSON sent without a type", request{method: "POST", target: "/test", body: `{"name":"a","data":{"note":"O'Brien's test"}}`}, http.StatusOK},
		{"attack in the query, clean text", request{method: "POST", target: "/test?x=%3Cscript%3Ealert(1)%3C/script%3E", contentType: "text/plain", body: "hello"}, http.StatusForbidden},
	}
	// Shipped, and without any exclusion: 920420 would refuse text/plain and x-yaml if the
	// operation's declaration did not take the type out first.
	for name, cfg := range map[string]Config{"shipped": shipped(), "no exclusions": defaults()} {
		s := newStack(t, cfg)
		for _, tt := range tests {
			if rec := s.do(t, tt.rq); rec.Code != tt.want {
				t.Errorf("%s: %s: %s %s (%s): status %d, want %d", name, tt.name, tt.rq.method, tt.rq.target, tt.rq.contentType, rec.Code, tt.want)
			}
		}
	}
}

// TestUndeclaredOversize: an undeclared body takes the JSON scope's limit and oversize
// handling: past the limit under MATCH it is refused unread, under CONTINUE its prefix is
// inspected and the rest streams on whole.
func TestUndeclaredOversize(t *testing.T) {
	late := strings.Repeat("plain words ", 1<<10) + "<script>alert(1)</script>"
	early := "<script>alert(1)</script>" + strings.Repeat("plain words ", 1<<10)
	clean := strings.Repeat("plain words ", 1<<10)
	tests := []struct {
		oversize           string
		late, early, clean int
	}{
		{topology.OversizeContinue, http.StatusOK, http.StatusForbidden, http.StatusOK},
		{topology.OversizeMatch, http.StatusForbidden, http.StatusForbidden, http.StatusForbidden},
		{topology.OversizeNoMatch, http.StatusOK, http.StatusOK, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.oversize, func(t *testing.T) {
			s := newStack(t, shipped(func(w *topology.WAF) { w.Body.JSON = topology.BodyScope{InspectLimit: 4 << 10, Oversize: tt.oversize} }))
			for _, c := range []struct {
				name, body string
				want       int
			}{{"attack past the limit", late, tt.late}, {"attack inside the limit", early, tt.early}, {"clean", clean, tt.clean}} {
				for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
					body := c.body
					if ct != "text/plain" {
						body = "q=" + url.QueryEscape(body)
					}
					rec := s.do(t, request{method: "POST", target: "/test", contentType: ct, body: body})
					if rec.Code != c.want {
						t.Errorf("%s (%s): status %d, want %d", c.name, ct, rec.Code, c.want)
					}
					if _, size, _ := s.backend.state(); rec.Code == http.StatusOK && size != int64(len(body)) {
						t.Errorf("%s (%s): the backend got %d bytes of %d", c.name, ct, size, len(body))
					}
				}
			}
		})
	}
}

// TestUploadBodies: what issue 12 found refused: multi-line text/plain and text/csv uploads of
// several MiB (raw and presigned PUT), Expect: 100-continue, multipart with legal file names.
// All through the shipped configuration.
func TestUploadBodies(t *testing.T) {
	var text, csv strings.Builder
	for i := 0; text.Len() < 3<<20; i++ {
		text.WriteString("Line " + string(rune('A'+i%26)) + ": O'Brien said \"select the best option\"; we'll update the table & drop by at 5.\n")
	}
	csv.WriteString("id,name,comment,when\n")
	for i := 0; csv.Len() < 3<<20; i++ {
		csv.WriteString("42,\"O'Brien, Pat\",\"=SUM(A1:A3); DROP? no\",2026-01-01T00:00:00Z\n")
	}
	pdf := []byte("%PDF-1.7\n" + strings.Repeat("x", 5<<20))
	expect := map[string]string{"Expect": "100-continue"}
	blob := "/upload/_blob/uploads/5f0c3e1a9b8d4c2e7f6a1b0c9d8e7f6a/0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10?token=eyJvIjoiNWYwYyJ9.qL3k9X_-Zt8wP0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT"
	cases := []request{
		{method: "POST", target: "/upload?filename=notes.txt", contentType: "text/plain", body: text.String(), header: expect},
		{method: "POST", target: "/upload?filename=data.csv", contentType: "text/csv", body: csv.String(), header: expect},
		{method: "POST", target: "/upload?filename=notes.md", contentType: "text/markdown; charset=utf-8", body: text.String()},
		{method: "PUT", target: blob, contentType: "text/plain", body: text.String(), header: expect},
		{method: "PUT", target: blob, contentType: "text/csv", body: csv.String()},
		{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{}}`, header: expect},
	}
	for _, name := range []string{"Q3 report – O'Brien (final).pdf", "a;b.pdf", "x=y.pdf", "report.pdf"} {
		ct, body := multipartOf(name, pdf)
		cases = append(cases, request{method: "POST", target: "/upload", contentType: ct, body: body, header: expect})
		cases = append(cases, request{method: "POST", target: "/Test/upload", contentType: ct, body: body})
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, rq := range cases {
		if rec := s.do(t, rq); rec.Code != http.StatusOK {
			t.Errorf("%s %s (%s, %d bytes): status %d, log %v", rq.method, rq.target, rq.contentType, len(rq.body), rec.Code, s.logs.records(t))
		}
	}
	// A file name is still inspected: an attack in it is refused.
	ct, body := multipartOf("<script>alert(1)</script>.pdf", pdf)
	if rec := s.do(t, request{method: "POST", target: "/upload", contentType: ct, body: body}); rec.Code != http.StatusForbidden {
		t.Errorf("XSS in a file name: status %d, want 403", rec.Code)
	}
}

// failingBody returns some bytes, then an error: a client that went away mid-body.
type failingBody struct{ n int }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, errors.New("connection reset by peer")
	}
	n := min(len(p), b.n)
	for i := range n {
		p[i] = 'a'
	}
	b.n -= n
	return n, nil
}

func (b *failingBody) Close() error { return nil }

// TestFailClosed: when the WAF cannot inspect a request (its body cannot be read, or the
// engine fails), it refuses it with 403 and the backend is never reached, in block mode.
func TestFailClosed(t *testing.T) {
	t.Run("body read fails", func(t *testing.T) {
		s := newStack(t, Config{WAF: shippedWAF(t)})
		for _, target := range []string{"/test", "/not-an-operation"} {
			r := httptest.NewRequest(http.MethodPost, target, nil)
			r.Body, r.ContentLength = &failingBody{n: 100}, 1000
			r.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", target, rec.Code)
			}
		}
		if hits, _, _ := s.backend.state(); hits != 0 {
			t.Errorf("backend reached %d times", hits)
		}
	})
	t.Run("engine fails", func(t *testing.T) {
		s := newStack(t, Config{WAF: shippedWAF(t)})
		s.waf.processBody = func(types.Transaction) (*types.Interruption, error) {
			return nil, errors.New("engine failure")
		}
		for _, rq := range []request{
			{target: "/test?limit=10"},
			{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{}}`},
		} {
			rec := s.do(t, rq)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), ruleInspectionError) {
				t.Errorf("%s: status %d body %s, want 403 naming %s", rq.target, rec.Code, rec.Body, ruleInspectionError)
			}
		}
		if hits, _, _ := s.backend.state(); hits != 0 {
			t.Errorf("backend reached %d times", hits)
		}
	})
}

var _ io.ReadCloser = (*failingBody)(nil)

// multipartOf is a multipart/form-data body with one file, as Go's mime/multipart writes it.
func multipartOf(name string, content []byte) (contentType, body string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return mw.FormDataContentType(), b.String()
}

// TestArgumentValues: argument values are out of CRS's command-word and code-name rules
// (valueTargets) wherever the argument comes from, a query, a form, a multipart field or a JSON
// body, nested or named json.*; an attack in any of them is still refused by the rules that
// replace those, and argument names stay in the CRS rules.
func TestArgumentValues(t *testing.T) {
	multipartField := func(name, value string) request {
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		_ = mw.WriteField(name, value)
		_ = mw.Close()
		return request{method: "POST", target: "/upload", contentType: mw.FormDataContentType(), body: mp.String()}
	}
	const prose, attack = "use ls -la | grep foo", "; cat /etc/passwd"
	tests := []struct {
		name string
		rq   request
		want int
	}{
		{"query prose", request{target: "/test?q=" + url.QueryEscape(prose)}, http.StatusOK},
		{"query json.* prose", request{target: "/test?json.note=" + url.QueryEscape(prose)}, http.StatusOK},
		{"query attack", request{target: "/test?q=" + url.QueryEscape(attack)}, http.StatusForbidden},
		{"query json.* attack", request{target: "/test?JSON.note=" + url.QueryEscape(attack)}, http.StatusForbidden},
		{"query name attack", request{target: "/test?" + url.QueryEscape("; cat /etc/passwd") + "=1"}, http.StatusForbidden},
		{"form prose", request{method: "POST", target: "/test", contentType: "application/x-www-form-urlencoded", body: "note=" + url.QueryEscape(prose)}, http.StatusOK},
		{"form attack", request{method: "POST", target: "/test", contentType: "application/x-www-form-urlencoded", body: "json.note=" + url.QueryEscape(attack)}, http.StatusForbidden},
		{"multipart prose", multipartField("note", prose), http.StatusOK},
		{"multipart attack", multipartField("json.note", attack), http.StatusForbidden},
		{"nested JSON prose", request{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{"json":{"note":"` + prose + `"}}}`}, http.StatusOK},
		{"JSON attack", request{method: "POST", target: "/test", contentType: "application/json", body: `{"name":"x","data":{"note":"` + attack + `"}}`}, http.StatusForbidden},
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for i, tt := range tests {
		tt.rq.remote = fmt.Sprintf("192.0.2.%d:1", i)
		if rec := s.do(t, tt.rq); rec.Code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
}

// TestRestrictedExtensions: a path ending in an e-mail address or a .com domain is not a
// restricted file extension (rule 10105 takes 920440 off it); backup, key and script names are.
func TestRestrictedExtensions(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"/upload/pat@example.com", http.StatusOK},
		{"/upload/ops@example.sh", http.StatusOK},
		{"/upload/example.com", http.StatusOK},
		{"/upload/db.bak", http.StatusForbidden},
		{"/upload/server.pem", http.StatusForbidden},
		{"/upload/deploy.sh", http.StatusForbidden},
		{"/upload/dump.sql", http.StatusForbidden},
	}
	s := newStack(t, Config{WAF: shippedWAF(t)})
	for i, tt := range tests {
		rq := request{target: tt.path, header: map[string]string{"Authorization": corpusToken}, remote: fmt.Sprintf("192.0.2.%d:1", 100+i)}
		if rec := s.do(t, rq); rec.Code != tt.want {
			t.Errorf("GET %s: status %d, want %d", tt.path, rec.Code, tt.want)
		}
	}
}
