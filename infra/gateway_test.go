package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/topology"
)

// gatewayResponseTypes are API Gateway's response types ("Gateway response types", API Gateway
// Developer Guide); the document declares every one.
var gatewayResponseTypes = []string{
	"ACCESS_DENIED", "API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
	"BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "EXPIRED_TOKEN",
	"INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
	"MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND",
	"THROTTLED", "UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED",
}

// verifierByToken is the authorizer's verdict by token: the test is about how the gateway
// renders a refusal, not about tokens (internal/auth and internal/edge test those with real
// keys).
type verifierByToken struct{}

func (verifierByToken) Verify(_ context.Context, token string, _ auth.Requirement) (*auth.Claims, error) {
	switch token {
	case "":
		return nil, auth.ErrMissingToken
	case "no-scope":
		return nil, auth.ErrInsufficientScope
	case "good":
		return &auth.Claims{Subject: "0123456789abcdef0123456789abcdef"}, nil
	}
	return nil, auth.ErrInvalidToken
}

// localEdge runs the local edge in-process over decagon.yaml and the embedded api/openapi.yaml
// (the same files the template is built from), in front of one backend per service that
// answers health checks, closes the connection on ?mode=close and hangs on ?mode=slow.
func localEdge(t *testing.T) *httptest.Server {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "decagon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// One request a second on DELETE /test/{test_id}, so that a second one is THROTTLED.
	doc := strings.Replace(string(data), "    methods:", "    methods:\n      \"DELETE /test/{test_id}\": {rateLimit: 1, burstLimit: 1}", 1)
	topo, err := topology.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "close":
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		case "slow":
			<-r.Context().Done()
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok","checks":{}}`)
		}
	}))
	t.Cleanup(backend.Close)
	addr := strings.TrimPrefix(backend.URL, "http://")
	targets := map[string][]string{}
	for _, s := range topo.Services {
		targets[s.Name] = []string{addr}
	}
	e, err := edge.New(edge.Config{
		Topology:           topo,
		Verifier:           verifierByToken{},
		Targets:            targets,
		MaxBodyBytes:       1 << 10,
		IntegrationTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	// Wait for the targets' health checks (poll with a deadline, no sleep-and-hope).
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(srv.URL + "/health-check")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the local edge's targets never became healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGatewayResponseParity: for each gateway response type, the synthesized template's
// status, headers and body against what the local edge answers, provoked for real. Types the
// local stack cannot meet (no API keys, usage plans, SigV4, expired-token distinction, or
// misconfiguration) are checked in the template alone: their body states their own status.
func TestGatewayResponseParity(t *testing.T) {
	s := synth(t, "v2-dev")
	_, api := s.one(t, "AWS::ApiGateway::RestApi")
	declared, _ := get(api, "Body", "x-amazon-apigateway-gateway-responses").(map[string]any)
	for _, typ := range gatewayResponseTypes {
		if declared[typ] == nil {
			t.Errorf("the REST API does not declare gateway response %s", typ)
		}
	}
	for typ := range declared {
		if !slices.Contains(gatewayResponseTypes, typ) {
			t.Errorf("the REST API declares %s, which is no API Gateway response type", typ)
		}
	}

	srv := localEdge(t)
	item := "/test/0b5b2f3c-4f86-4b7e-9d6e-2f0d9c1e7a11"
	do := func(method, path, body string, header ...string) *http.Response {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	good := []string{"Authorization", "Bearer good"}
	jsonReq := append([]string{"Content-Type", "application/json"}, good...)
	provoke := map[string]func() *http.Response{
		"UNAUTHORIZED":                 func() *http.Response { return do("GET", "/test", "") },
		"ACCESS_DENIED":                func() *http.Response { return do("GET", item, "", "Authorization", "Bearer no-scope") },
		"MISSING_AUTHENTICATION_TOKEN": func() *http.Response { return do("GET", "/nowhere", "") },
		"REQUEST_TOO_LARGE": func() *http.Response {
			return do("POST", "/test", `{"name":"`+strings.Repeat("x", 2<<10)+`"}`, jsonReq...)
		},
		"BAD_REQUEST_BODY":       func() *http.Response { return do("POST", "/test", `{"nom":"x"}`, jsonReq...) },
		"BAD_REQUEST_PARAMETERS": func() *http.Response { return do("GET", "/test?limit=0", "", good...) },
		"UNSUPPORTED_MEDIA_TYPE": func() *http.Response {
			return do("POST", "/test", "name=x", append([]string{"Content-Type", "text/plain"}, good...)...)
		},
		"THROTTLED": func() *http.Response {
			do("DELETE", item, "", good...).Body.Close()
			return do("DELETE", item, "", good...)
		},
		"INTEGRATION_FAILURE": func() *http.Response { return do("GET", "/test?mode=close", "", good...) },
		"INTEGRATION_TIMEOUT": func() *http.Response { return do("GET", "/test?mode=slow", "", good...) },
	}
	for _, typ := range gatewayResponseTypes {
		t.Run(typ, func(t *testing.T) {
			d, _ := declared[typ].(map[string]any)
			status, _ := strconv.Atoi(js(d["statusCode"]))
			headers := map[string]string{}
			params, _ := d["responseParameters"].(map[string]any)
			for k, v := range params {
				if name, ok := strings.CutPrefix(k, "gatewayresponse.header."); ok {
					headers[name] = strings.Trim(v.(string), "'")
				}
			}
			if headers["Content-Type"] != "application/problem+json" {
				t.Errorf("template Content-Type %q, want application/problem+json", headers["Content-Type"])
			}
			tmpl, _ := get(d, "responseTemplates", "application/json").(string)
			var want map[string]any
			if err := jsonUnmarshal(tmpl, &want); err != nil {
				t.Fatalf("template body is not JSON: %v: %s", err, tmpl)
			}
			if strings.HasPrefix(typ, "DEFAULT_") {
				// They keep the status of whatever type they stand in for: no status to state.
				if status != 0 || want["status"] != nil {
					t.Errorf("%s has status %d / body status %v; a default must not fix one", typ, status, want["status"])
				}
				return
			}
			if status < 400 || want["status"] != float64(status) || want["title"] != http.StatusText(status) {
				t.Errorf("template status %d, body status %v title %v: they must agree", status, want["status"], want["title"])
			}
			send, ok := provoke[typ]
			if !ok {
				t.Logf("%s: not produced by the local stack; template checked alone", typ)
				return
			}
			resp := send()
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != status {
				t.Fatalf("local edge answers %d, the template %d: %s", resp.StatusCode, status, body)
			}
			for name, v := range headers {
				if got := resp.Header.Get(name); got != v {
					t.Errorf("header %s: local %q, template %q", name, got, v)
				}
			}
			var got map[string]any
			if err := jsonUnmarshal(string(body), &got); err != nil {
				t.Fatalf("local body is not JSON: %v: %s", err, body)
			}
			for k, w := range want {
				ws, _ := w.(string)
				switch {
				case ws == "$context.requestId":
					if got[k] != resp.Header.Get("X-Request-Id") || got[k] == "" {
						t.Errorf("%s = %v, want the request ID %q", k, got[k], resp.Header.Get("X-Request-Id"))
					}
				case strings.Contains(ws, "$context.error."):
					// API Gateway's own message: locally the edge's; present and a string.
					if g, _ := got[k].(string); g == "" {
						t.Errorf("%s = %v, want the error message", k, got[k])
					}
				case !eq(got[k], w):
					t.Errorf("%s: local %s, template %s", k, js(got[k]), js(w))
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("local body has %s, the template does not", k)
				}
			}
		})
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
