package edge

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/idp"
)

// scopedDoc is the document with GET /test/{test_id} asking for the decagon/read scope, so
// that the access-token rules can be exercised.
func scopedDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		t.Fatal(err)
	}
	// GET /test without scopes wants an ID token; GET /test/{test_id} wants decagon/read alone.
	doc.Paths.Value("/test").Get.Security = &openapi3.SecurityRequirements{{"cognito": {}}}
	doc.Paths.Value("/test/{test_id}").Get.Security = &openapi3.SecurityRequirements{{"cognito": {"decagon/read"}}}
	return doc
}

func TestAuthorizer(t *testing.T) {
	h := newHarness(t, 1, testTopology, func(c *Config) { c.Doc = scopedDoc(t) })
	p, _ := testIDP(t)
	id := mint(t, idp.MintOptions{Type: "id"})
	access := mint(t, idp.MintOptions{Type: "access", Scopes: []string{"decagon/read"}})
	otherScope := mint(t, idp.MintOptions{Type: "access", Scopes: []string{"decagon/write"}})
	expired := mint(t, idp.MintOptions{Type: "id", Now: time.Now().Add(-3 * time.Hour), TTL: time.Hour})
	otherIssuer, err := p.Mint(idp.MintOptions{Type: "id", Issuer: "http://127.0.0.1:1/_idp", User: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(id, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	item := "/test/" + uuid1
	cases := []struct {
		name, path, auth string
		status           int
		challenge        string // substring of WWW-Authenticate
	}{
		{"id token, id route", "/test", "Bearer " + id, 200, ""},
		{"no token", "/test", "", 401, `Bearer realm="decagon"`},
		{"empty bearer", "/test", "Bearer ", 401, `Bearer realm="decagon"`},
		{"basic scheme", "/test", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 401, `error="invalid_token"`},
		{"garbage", "/test", "Bearer garbage", 401, `error="invalid_token"`},
		{"forged signature", "/test", "Bearer " + forged, 401, `error="invalid_token"`},
		{"expired", "/test", "Bearer " + expired, 401, `error="invalid_token"`},
		{"other issuer", "/test", "Bearer " + otherIssuer, 401, `error="invalid_token"`},
		{"access token, id route", "/test", "Bearer " + access, 401, `error="invalid_token"`},
		{"access token with scope", item, "Bearer " + access, 200, ""},
		{"access token without scope", item, "Bearer " + otherScope, 403, `error="insufficient_scope"`},
		{"id token, scoped route", item, "Bearer " + id, 401, `error="invalid_token"`},
		{"public route needs none", "/health-check", "", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			resp := h.do("GET", tc.path, "", hdr...)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			if tc.status == 200 {
				if got := resp.echo(t).Header["Authorization"]; tc.auth != "" && (len(got) != 1 || got[0] != tc.auth) {
					t.Fatalf("forwarded Authorization %q", got)
				}
				return
			}
			resp.problem(t)
			if got := resp.header.Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			line := h.logFor(resp.header.Get("X-Request-Id"))
			if line["authorizerError"] == "" {
				t.Fatalf("access log has no authorizerError: %v", line)
			}
		})
	}
	if h.backends[0].hits.Load() != 3 {
		t.Fatalf("backend saw %d requests, want the 3 allowed ones", h.backends[0].hits.Load())
	}
}

func TestAuthorizerCache(t *testing.T) {
	h := newHarness(t, 1, testTopology)
	tok := "Bearer " + mint(t, idp.MintOptions{User: "cached"})
	for range 5 {
		if r := h.do("GET", "/test", "", "Authorization", tok); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	}
	if n := h.verifier.calls.Load(); n != 1 {
		t.Fatalf("verifier called %d times for one token, want 1", n)
	}
	// A bad token is never cached: each try is verified again.
	for range 3 {
		h.do("GET", "/test", "", "Authorization", "Bearer x.y.z")
	}
	if n := h.verifier.calls.Load(); n != 4 {
		t.Fatalf("verifier called %d times, want 4", n)
	}
}

// TestAuthorizerCacheKeepsTokenUse: a token accepted once and cached still meets each route's
// token_use rule on its next use — an access token is not an ID token on an ID route, an ID
// token not an access token on a scoped route — without the real verifier being asked again.
func TestAuthorizerCacheKeepsTokenUse(t *testing.T) {
	h := newHarness(t, 1, testTopology, func(c *Config) { c.Doc = scopedDoc(t) })
	id := "Bearer " + mint(t, idp.MintOptions{User: "ida", Type: "id"})
	access := "Bearer " + mint(t, idp.MintOptions{User: "acc", Type: "access", Scopes: []string{"decagon/read"}})
	item := "/test/" + uuid1
	for _, c := range []struct {
		name, path, auth string
		status           int
	}{
		{"access token on its scoped route: verified, cached", item, access, 200},
		{"the cached access token on an ID route", "/test", access, 401},
		{"id token on its route: verified, cached", "/test", id, 200},
		{"the cached id token on a scoped route", item, id, 401},
	} {
		if r := h.do("GET", c.path, "", "Authorization", c.auth); r.status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
		}
	}
	if n := h.verifier.calls.Load(); n != 2 {
		t.Fatalf("verifier called %d times, want 2 (the second use of each token comes from the cache)", n)
	}
}

// stubVerifier accepts every token but "bad" with fixed claims, under the Verifier's token_use rule.
type stubVerifier struct {
	claims *auth.Claims
	calls  int
}

func (s *stubVerifier) Verify(_ context.Context, token string, req auth.Requirement) (*auth.Claims, error) {
	s.calls++
	if token == "bad" {
		return nil, auth.ErrInvalidToken
	}
	// The Verifier's rule: no scopes wants an ID token, scopes an access token with one of them.
	if (len(req.Scopes) == 0) != (s.claims.TokenUse == "id") ||
		len(req.Scopes) > 0 && !slices.ContainsFunc(req.Scopes, s.claims.HasScope) {
		return nil, auth.ErrInvalidToken
	}
	return s.claims, nil
}

// TestAuthorizerCacheBounds: the edge's authorizer verifies a token once, holds cached claims
// to each route's requirement, and keeps the cache within its size. (Expiry at exp and at the
// age limit is the cache's own, tested in internal/auth: TestCacheVerifiesOnceUntilExp,
// TestCacheMaxAge.)
func TestAuthorizerCacheBounds(t *testing.T) {
	sv := &stubVerifier{claims: &auth.Claims{TokenUse: "id", ExpiresAt: time.Now().Add(time.Hour)}}
	a := newAuthorizer(sv, 32, 10*time.Minute)
	ctx := context.Background()
	hdr := []string{"Bearer tok"}
	for range 3 {
		if _, err := a.authorize(ctx, hdr, auth.Requirement{}); err != nil {
			t.Fatal(err)
		}
	}
	if sv.calls != 1 {
		t.Fatalf("calls %d, want 1", sv.calls)
	}
	// The cached claims still obey each route's requirement.
	if _, err := a.authorize(ctx, hdr, auth.Requirement{Scopes: []string{"x"}}); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("id token on scoped route: %v", err)
	}
	if sv.calls != 1 {
		t.Fatalf("calls %d after a cached token on another route, want 1", sv.calls)
	}
	// The size bound holds.
	for i := range 500 {
		_, _ = a.authorize(ctx, []string{"Bearer t" + string(rune('a'+i%26)) + strings.Repeat("x", i)}, auth.Requirement{})
	}
	if n := a.cache.Len(); n > 32 {
		t.Fatalf("cache holds %d entries, bound 32", n)
	}
}

func TestBearerToken(t *testing.T) {
	cases := []struct {
		in   []string
		want string
		err  error
	}{
		{nil, "", auth.ErrMissingToken},
		{[]string{""}, "", auth.ErrMissingToken},
		{[]string{"Bearer abc"}, "abc", nil},
		{[]string{"bearer  abc "}, "abc", nil},
		{[]string{"abc"}, "abc", nil},
		{[]string{"Bearer"}, "Bearer", nil}, // a bare "token", which the verifier refuses
		{[]string{"Basic abc"}, "", auth.ErrInvalidToken},
		{[]string{"Bearer a", "Bearer b"}, "", auth.ErrInvalidToken},
	}
	for _, tc := range cases {
		got, err := bearerToken(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: got %q %v, want %q %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
