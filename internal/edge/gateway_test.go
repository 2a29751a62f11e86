package edge

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/idp"
)

// declaredResponses reads x-amazon-apigateway-gateway-responses from the raw document,
// independently of the edge's parser.
func declaredResponses(t *testing.T) map[string]struct {
	StatusCode         int               `yaml:"statusCode"`
	ResponseParameters map[string]string `yaml:"responseParameters"`
	ResponseTemplates  map[string]string `yaml:"responseTemplates"`
} {
	t.Helper()
	var doc struct {
		Responses map[string]struct {
			StatusCode         int               `yaml:"statusCode"`
			ResponseParameters map[string]string `yaml:"responseParameters"`
			ResponseTemplates  map[string]string `yaml:"responseTemplates"`
		} `yaml:"x-amazon-apigateway-gateway-responses"`
	}
	if err := yaml.Unmarshal(api.Spec, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Responses
}

// TestGatewayResponses provokes each gateway response for real and compares status, body and
// declared headers with api/openapi.yaml, where API Gateway reads them from.
func TestGatewayResponses(t *testing.T) {
	const topo = `
stage:
  name: Test
  throttling:
    rateLimit: 1000
    burstLimit: 1000
    methods:
      "DELETE /test/{test_id}": {rateLimit: 1, burstLimit: 1}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2}
`
	h := newHarness(t, 1, topo, func(c *Config) {
		c.Doc = scopedDoc(t)
		c.MaxBodyBytes = 1 << 10
		c.IntegrationTimeout = 300 * time.Millisecond
	})
	h.backends[0].setHandler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "close": // the connection dies before any response
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case "slow":
			<-r.Context().Done()
		default:
			w.WriteHeader(204)
		}
	})
	empty := newHarness(t, 0, testTopology)
	id := "Bearer " + mint(t, idp.MintOptions{Type: "id"}) // GET /test is an ID-token route in scopedDoc
	noScope := "Bearer " + mint(t, idp.MintOptions{Type: "access", Scopes: []string{"decagon/write"}})
	item := "/test/" + uuid1

	declared := declaredResponses(t)
	cases := []struct {
		typ    string // the document's response type; "" for the edge's own 503
		status int
		send   func() response
	}{
		{"UNAUTHORIZED", 401, func() response { return h.do("GET", "/test", "") }},
		{"ACCESS_DENIED", 403, func() response { return h.do("GET", item, "", "Authorization", noScope) }},
		{"MISSING_AUTHENTICATION_TOKEN", 404, func() response { return h.do("GET", "/nowhere", "") }},
		{"REQUEST_TOO_LARGE", 413, func() response {
			return h.do("POST", "/test", strings.Repeat("x", 2<<10), "Authorization", id, "Content-Type", "application/json")
		}},
		{"THROTTLED", 429, func() response {
			h.do("DELETE", item, "", "Authorization", id)
			return h.do("DELETE", item, "", "Authorization", id)
		}},
		{"INTEGRATION_FAILURE", 502, func() response { return h.do("GET", "/test?mode=close", "", "Authorization", id) }},
		{"INTEGRATION_TIMEOUT", 504, func() response { return h.do("GET", "/test?mode=slow", "", "Authorization", id) }},
		{"", 503, func() response { return empty.do("GET", "/health-check", "") }},
	}
	for _, tc := range cases {
		t.Run(tc.typ+"_"+http.StatusText(tc.status), func(t *testing.T) {
			resp := tc.send()
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			// The headers of every problem, as problem.Write sets them for the services.
			for k, v := range map[string]string{"Content-Type": "application/problem+json",
				"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
				if got := resp.header.Values(k); len(got) != 1 || got[0] != v {
					t.Fatalf("%s %q, want %q", k, got, v)
				}
			}
			reqID := resp.header.Get("X-Request-Id")
			var want string
			if tc.typ == "" {
				want = `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"no healthy target","request_id":"$context.requestId"}`
			} else {
				d, ok := declared[tc.typ]
				if !ok {
					t.Fatalf("%s is not declared in api/openapi.yaml", tc.typ)
				}
				if d.StatusCode != tc.status {
					t.Fatalf("document says %d for %s", d.StatusCode, tc.typ)
				}
				want = d.ResponseTemplates["application/json"]
				for k, v := range d.ResponseParameters {
					name, _ := strings.CutPrefix(k, "gatewayresponse.header.")
					if got := resp.header.Get(name); got != strings.Trim(v, "'") {
						t.Errorf("header %s = %q, document declares %s", name, got, v)
					}
				}
			}
			var got, exp map[string]any
			if err := json.Unmarshal(resp.body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(strings.ReplaceAll(want, "$context.requestId", reqID)), &exp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("body\n got  %s\n want %v", resp.body, exp)
			}
		})
	}
}

func TestSplitTemplate(t *testing.T) {
	parts, vars := splitTemplate(`{"a":"$context.requestId","b":"$context.error.message."}`)
	if !reflect.DeepEqual(vars, []string{"context.requestId", "context.error.message"}) ||
		!reflect.DeepEqual(parts, []string{`{"a":"`, `","b":"`, `."}`}) {
		t.Fatalf("parts %q vars %q", parts, vars)
	}
}

func TestAppendJSONText(t *testing.T) {
	for _, s := range []string{"plain", `q"uote\`, "nl\n\r\t", "\x00\x1f<>&", "é✓😀", "bad\xffutf8", "\u2028"} {
		b := append([]byte{'"'}, appendJSONText(nil, s)...)
		b = append(b, '"')
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, b, err)
		}
		if back != strings.ToValidUTF8(s, "\ufffd") {
			t.Fatalf("%q -> %s -> %q", s, b, back)
		}
	}
}
