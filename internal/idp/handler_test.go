package idp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/problem"
)

func b64d(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// serve starts p.Handler() on a real listener and records its issuer.
func serve(t *testing.T, p *Provider) (baseURL, issuer string) {
	t.Helper()
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	issuer = srv.URL + PathPrefix
	if err := p.SetIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	return srv.URL, issuer
}

// verifyWith checks token with package auth's Verifier for issuer, fetching the JWKS over HTTP
// from p.Handler() whatever host the issuer names.
func verifyWith(t *testing.T, p *Provider, issuer, token string, req auth.Requirement) *auth.Claims {
	t.Helper()
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	t.Cleanup(transport.CloseIdleConnections)
	v, err := auth.NewVerifier(auth.Config{
		Issuer: issuer, ClientIDs: []string{p.ClientID()},
		HTTPClient: &http.Client{Transport: transport, Timeout: 5 * time.Second},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	claims, err := v.Verify(ctx, token, req)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return claims
}

func TestRoundTrip(t *testing.T) {
	p := sharedProvider(t)
	_, issuer := serve(t, p)

	id, err := p.Mint(MintOptions{User: "alice", Type: "id", Groups: []string{"admin", "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	c := verifyWith(t, p, issuer, id, auth.Requirement{})
	if c.Username != "alice" || c.Email != "alice@example.com" || !c.InGroup("admin") || !c.InGroup("dev") ||
		c.TokenUse != "id" || c.ClientID != p.ClientID() || c.Subject == "" {
		t.Errorf("id claims = %+v", c)
	}

	access, err := p.Mint(MintOptions{User: "bob", Type: "access", Scopes: []string{"decagon/read", "decagon/write"}})
	if err != nil {
		t.Fatal(err)
	}
	c = verifyWith(t, p, issuer, access, auth.Requirement{Scopes: []string{"decagon/write"}})
	if c.Username != "bob" || c.TokenUse != "access" || !c.HasScope("decagon/read") || len(c.Groups) != 0 {
		t.Errorf("access claims = %+v", c)
	}

	// The next key is published too, so a token it signs (after a rotation) verifies.
	rotated := &Provider{keys: [2]signingKey{p.keys[1], p.keys[0]}, client: p.client, now: time.Now}
	next, err := rotated.Mint(MintOptions{Issuer: issuer, User: "carol", Type: "id"})
	if err != nil {
		t.Fatal(err)
	}
	verifyWith(t, p, issuer, next, auth.Requirement{})
}

func TestJWKSPublicOnly(t *testing.T) {
	base, _ := serve(t, sharedProvider(t))
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	resp := get(t, base+jwksPath)
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 2 {
		t.Fatalf("%d keys, want 2", len(doc.Keys))
	}
	for _, k := range doc.Keys {
		var names []string
		for name := range k {
			names = append(names, name)
		}
		slices.Sort(names)
		if strings.Join(names, ",") != "alg,e,kid,kty,n,use" {
			t.Errorf("key members %v, want exactly alg,e,kid,kty,n,use", names)
		}
		if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" {
			t.Errorf("key %v", k)
		}
	}
}

func TestDiscovery(t *testing.T) {
	base, issuer := serve(t, sharedProvider(t))
	var doc map[string]any
	if err := json.NewDecoder(get(t, base+discoveryPath).Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != issuer || doc["jwks_uri"] != issuer+"/.well-known/jwks.json" ||
		doc["token_endpoint"] != issuer+"/oauth2/token" {
		t.Errorf("discovery = %v", doc)
	}
	for _, field := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported",
		"scopes_supported", "token_endpoint_auth_methods_supported"} {
		if _, ok := doc[field].([]any); !ok {
			t.Errorf("discovery lacks %s", field)
		}
	}
}

func TestDiscoveryIssuerFromRequest(t *testing.T) {
	p := sharedProvider(t)
	q := &Provider{dir: t.TempDir(), jwks: p.jwks, scopes: DefaultScopes} // no issuer recorded
	r := httptest.NewRequest(http.MethodGet, "http://example.test:9999"+discoveryPath, nil)
	w := httptest.NewRecorder()
	q.Handler().ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `"issuer":"http://example.test:9999/_idp"`) {
		t.Fatalf("discovery without a recorded issuer: %s", w.Body)
	}
}

func TestHandlerErrors(t *testing.T) {
	base, _ := serve(t, sharedProvider(t))
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, PathPrefix + "/nope", http.StatusNotFound, ""},
		{http.MethodGet, PathPrefix, http.StatusNotFound, ""},
		{http.MethodGet, PathPrefix + "/oauth2/authorize", http.StatusNotFound, ""},
		{http.MethodPost, jwksPath, http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, tokenPath, http.StatusMethodNotAllowed, "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p problem.Problem
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || p.Status != tc.status || resp.Header.Get("Content-Type") != problem.ContentType ||
				resp.Header.Get("Allow") != tc.allow {
				t.Errorf("got %d %v %+v", resp.StatusCode, resp.Header, p)
			}
		})
	}
}

func TestTokenEndpoint(t *testing.T) {
	p := sharedProvider(t)
	base, issuer := serve(t, p)
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	good := basic(p.ClientID(), p.ClientSecret())
	form := "application/x-www-form-urlencoded"
	post := "grant_type=client_credentials&client_id=" + p.ClientID() + "&client_secret=" + p.ClientSecret()

	tests := []struct {
		name, authz, contentType, body string
		status                         int
		errCode                        string
		scopes                         []string // of the granted token
	}{
		{"basic, all scopes", good, form, "grant_type=client_credentials", 200, "", []string{"decagon/read", "decagon/write"}},
		{"basic, one scope", good, form + "; charset=utf-8", "grant_type=client_credentials&scope=decagon%2Fread", 200, "", []string{"decagon/read"}},
		{"basic with matching form client_id", good, form, "grant_type=client_credentials&client_id=" + p.ClientID(), 200, "", []string{"decagon/read", "decagon/write"}},
		{"post", "", form, post, 200, "", []string{"decagon/read", "decagon/write"}},
		{"wrong secret basic", basic(p.ClientID(), "wrong"), form, "grant_type=client_credentials", 401, "invalid_client", nil},
		{"wrong secret post", "", form, "grant_type=client_credentials&client_id=" + p.ClientID() + "&client_secret=x", 401, "invalid_client", nil},
		{"unknown client", basic("someoneelse", p.ClientSecret()), form, "grant_type=client_credentials", 401, "invalid_client", nil},
		{"no client auth", "", form, "grant_type=client_credentials", 401, "invalid_client", nil},
		{"bearer instead of basic", "Bearer x", form, "grant_type=client_credentials", 401, "invalid_client", nil},
		{"basic not base64", "Basic !!!", form, "grant_type=client_credentials", 401, "invalid_client", nil},
		{"two auth methods", good, form, post, 400, "invalid_request", nil},
		{"bad grant", good, form, "grant_type=password&username=a&password=b", 400, "unsupported_grant_type", nil},
		{"authorization_code", good, form, "grant_type=authorization_code&code=x", 400, "unsupported_grant_type", nil},
		{"no grant", good, form, "scope=decagon%2Fread", 400, "invalid_request", nil},
		{"bad scope", good, form, "grant_type=client_credentials&scope=decagon%2Fread+admin", 400, "invalid_scope", nil},
		{"empty scope", good, form, "grant_type=client_credentials&scope=", 400, "invalid_scope", nil},
		{"repeated parameter", good, form, "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request", nil},
		{"malformed form", good, form, "grant_type=%zz", 400, "invalid_request", nil},
		{"json body", good, "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request", nil},
		{"no content type", good, "", "grant_type=client_credentials", 400, "invalid_request", nil},
		{"huge body", good, form, "grant_type=client_credentials&x=" + strings.Repeat("a", maxTokenRequestBytes), 400, "invalid_request", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+tokenPath, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
			var out map[string]any
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if tc.status != http.StatusOK {
				if out["error"] != tc.errCode {
					t.Errorf("error = %v, want %s", out["error"], tc.errCode)
				}
				if got := resp.Header.Get("WWW-Authenticate"); (tc.status == 401) != (got == `Basic realm="decagon"`) {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if strings.Contains(string(body), p.ClientSecret()) {
					t.Error("response echoes the secret")
				}
				return
			}
			if out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) {
				t.Errorf("response %v", out)
			}
			tok, _ := out["access_token"].(string)
			c := verifyWith(t, p, issuer, tok, auth.Requirement{Scopes: tc.scopes[:1]})
			if c.Subject != p.ClientID() || c.Username != "" || c.ClientID != p.ClientID() || !slices.Equal(c.Scopes, tc.scopes) {
				t.Errorf("client_credentials claims = %+v", c)
			}
			claims := decodePart(t, tok, 1)
			for _, absent := range []string{"username", "cognito:groups", "origin_jti", "event_id", "aud"} {
				if _, ok := claims[absent]; ok {
					t.Errorf("client_credentials token has %s", absent)
				}
			}
		})
	}
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}
