package waf

import (
	"bytes"
	"crypto/rand"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/decagon/decagon/api"
)

// TestFalsePositives sends valid requests for every operation of api/openapi.yaml, with
// realistic and awkward-but-legal content (quotes, apostrophes, URLs, SQL-looking words,
// unicode, binary uploads), through the WAF at paranoia level 1 in block mode: none may be
// refused.
func TestFalsePositives(t *testing.T) {
	bin := make([]byte, 256<<10)
	if _, err := rand.Read(bin); err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bin[:64<<10]...)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "Q3 report – O'Brien (final).pdf")
	_, _ = fw.Write(append([]byte("%PDF-1.7\n"), bin...))
	_ = mw.Close()
	var mpText bytes.Buffer
	mw2 := multipart.NewWriter(&mpText)
	fw2, _ := mw2.CreateFormFile("file", "notes.txt")
	_, _ = fw2.Write([]byte("Meeting notes: select the best option from the menu; update the table; drop by at 5.\nO'Brien said \"fine\".\n"))
	_ = mw2.Close()

	const (
		testID  = "0b9e6a52-8f0c-4b43-9d5c-6d1f1d1c2a10"
		owner   = "5f0c3e1a9b8d4c2e7f6a1b0c9d8e7f6a"
		token   = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyLTEiLCJ0b2tlbl91c2UiOiJpZCIsImF1ZCI6ImRlY2Fnb24ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtX18tLQ"
		sigTok  = "eyJvIjoiNWYwYzNlMWEiLCJ1IjoiMGI5ZTZhNTIiLCJlIjoxNzM1Njg5NjAwfQ.qL3k9X_-Zt8wP0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT"
		jsonCT  = "application/json"
		idemKey = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	)
	auth := map[string]string{"Authorization": token}
	withKey := map[string]string{"Authorization": token, "Idempotency-Key": idemKey}
	cases := []struct {
		op string // the operation, as "METHOD /path" in api/openapi.yaml
		rq request
	}{
		{"GET /health-check", request{target: "/health-check"}},
		{"POST /test", request{method: "POST", target: "/test", contentType: jsonCT, header: withKey,
			body: `{"name":"O'Brien's test","data":{"note":"select the best option from the menu","url":"https://example.com/docs?page=2&lang=en#intro"}}`}},
		{"POST /test", request{method: "POST", target: "/test", contentType: jsonCT, header: auth,
			body: `{"name":"Quarterly \"numbers\"","data":{"comment":"Drop by the office; we'll update the table later.","where":"Union Station","n":42,"ratio":0.75,"ok":true,"tags":["a","b"],"none":null}}`}},
		{"POST /test", request{method: "POST", target: "/test", contentType: "application/json; charset=utf-8", header: auth,
			body: `{"name":"Café – naïve résumé ✓ 日本語 😀","data":{"greeting":"Grüß Gott","html":"Tom & Jerry < 3 > 2","path":"docs/2026/report.md","email":"o.brien@example.com"}}`}},
		{"POST /test", request{method: "POST", target: "/test", contentType: jsonCT, header: auth,
			body: `{"name":"Where to eat","data":{"question":"Which one do you select from the list, and where do we order?","answer":"Let's update our choice and delete the old one from the menu."}}`}},
		{"POST /test", request{method: "POST", target: "/test", contentType: jsonCT, header: auth, body: `{"name":"minimal","data":null}`}},
		{"GET /test", request{target: "/test?limit=20&cursor=eyJjcmVhdGVkX2F0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpZCI6IjBiOWU2YTUyIn0", header: auth}},
		{"GET /test", request{target: "/test?limit=100&owner=user-1", header: auth}},
		{"GET /test", request{target: "/test", header: auth}},
		{"GET /test/{test_id}", request{target: "/test/" + testID, header: auth}},
		{"DELETE /test/{test_id}", request{method: "DELETE", target: "/test/" + testID, header: auth}},
		{"POST /upload", request{method: "POST", target: "/upload", contentType: mw.FormDataContentType(), header: auth, body: mp.String()}},
		{"POST /upload", request{method: "POST", target: "/upload", contentType: mw2.FormDataContentType(), header: auth, body: mpText.String()}},
		{"POST /upload", request{method: "POST", target: "/upload?filename=photo%20of%20O%27Brien%27s%20caf%C3%A9.bin", contentType: "application/octet-stream", header: auth, body: string(bin)}},
		{"POST /upload", request{method: "POST", target: "/upload?filename=diagram.png", contentType: "image/png", header: auth, body: string(png)}},
		{"POST /upload", request{method: "POST", target: "/upload?filename=report.pdf", contentType: "application/pdf", header: auth, body: "%PDF-1.7\n" + string(bin[:32<<10])}},
		{"GET /upload", request{target: "/upload?limit=20&cursor=eyJpZCI6IjEyMyJ9", header: auth}},
		{"POST /upload/presign", request{method: "POST", target: "/upload/presign", contentType: jsonCT, header: auth,
			body: `{"filename":"Holiday photo – Côte d'Azur (1).jpg","content_type":"image/jpeg","size":5242880}`}},
		{"GET /upload/{upload_id}", request{target: "/upload/" + testID + "?redirect=true", header: auth}},
		{"GET /upload/{upload_id}", request{target: "/upload/" + testID, header: auth}},
		{"DELETE /upload/{upload_id}", request{method: "DELETE", target: "/upload/" + testID, header: auth}},
		{"POST /upload/{upload_id}/complete", request{method: "POST", target: "/upload/" + testID + "/complete", header: auth}},
		{"GET /upload/_blob/uploads/{owner}/{upload_id}", request{target: "/upload/_blob/uploads/" + owner + "/" + testID + "?token=" + sigTok}},
		{"PUT /upload/_blob/uploads/{owner}/{upload_id}", request{method: "PUT", target: "/upload/_blob/uploads/" + owner + "/" + testID + "?token=" + sigTok,
			contentType: "image/jpeg", body: "\xff\xd8\xff\xe0\x00\x10JFIF" + string(bin[:128<<10])}},
	}

	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range cases {
		if _, ok := api.FindPattern(c.op); !ok {
			t.Errorf("%s is not an operation of api/openapi.yaml", c.op)
		}
		covered[c.op] = true
	}
	for _, o := range ops {
		if !covered[o.Pattern()] {
			t.Errorf("operation %s (%s) has no false-positive case", o.Pattern(), o.ID)
		}
	}

	s := newStack(t, Config{WAF: shippedWAF(t)})
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			if rec := s.do(t, c.rq); rec.Code != http.StatusOK {
				var ids any
				if recs := s.logs.records(t); len(recs) > 0 {
					ids = recs[len(recs)-1]["matchedRuleIds"]
				}
				t.Errorf("%s %s refused (%d), matched rules %v", methodOf(c.rq), c.rq.target, rec.Code, ids)
			}
		})
	}
	if st := s.waf.Stats(); st.Blocked != 0 {
		t.Errorf("stats %+v", st)
	}
}
