package idp

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const testIssuer = "http://127.0.0.1:8080/_idp"

func TestMintValidation(t *testing.T) {
	p := sharedProvider(t)
	tests := []struct {
		name string
		opts MintOptions
		want string // substring of the error; "" means success
	}{
		{"defaults", MintOptions{User: "alice"}, ""},
		{"email user", MintOptions{User: "alice@example.org", Type: "id"}, ""},
		{"access", MintOptions{User: "alice", Type: "access", Scopes: []string{"decagon/read"}}, ""},
		{"ttl bounds", MintOptions{User: "a", TTL: MinTTL}, ""},
		{"ttl max", MintOptions{User: "a", TTL: MaxTTL}, ""},
		{"no user", MintOptions{}, "user"},
		{"user with space", MintOptions{User: "bob smith"}, "user"},
		{"user with quote", MintOptions{User: `bob"`}, "user"},
		{"user too long", MintOptions{User: strings.Repeat("a", 129)}, "user"},
		{"user non-ASCII", MintOptions{User: "bøb"}, "user"},
		{"empty group", MintOptions{User: "a", Groups: []string{""}}, "group"},
		{"group with comma", MintOptions{User: "a", Groups: []string{"a,b"}}, "group"},
		{"duplicate group", MintOptions{User: "a", Groups: []string{"x", "x"}}, "twice"},
		{"bad type", MintOptions{User: "a", Type: "refresh"}, "token type"},
		{"scopes on id token", MintOptions{User: "a", Type: "id", Scopes: []string{"decagon/read"}}, "access tokens only"},
		{"bad scope", MintOptions{User: "a", Type: "access", Scopes: []string{"a b"}}, "scope"},
		{"empty scope", MintOptions{User: "a", Type: "access", Scopes: []string{""}}, "scope"},
		{"ttl too short", MintOptions{User: "a", TTL: 59 * time.Second}, "ttl"},
		{"ttl too long", MintOptions{User: "a", TTL: 25 * time.Hour}, "ttl"},
		{"negative ttl", MintOptions{User: "a", TTL: -time.Hour}, "ttl"},
		{"bad issuer", MintOptions{User: "a", Issuer: "not a url"}, "issuer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Issuer == "" {
				tc.opts.Issuer = testIssuer
			}
			tok, err := p.Mint(tc.opts)
			if tc.want == "" {
				if err != nil || strings.Count(tok, ".") != 2 {
					t.Fatalf("Mint = %q, %v", tok, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Mint error = %v, want one about %q", err, tc.want)
			}
		})
	}
}

func TestMintShapes(t *testing.T) {
	p := sharedProvider(t)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

	id, err := p.Mint(MintOptions{Issuer: testIssuer, User: "alice", Type: "id", Groups: []string{"admin"}, Now: now, TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := decodePart(t, id, 0)
	if len(h) != 2 || h["alg"] != "RS256" || h["kid"] != p.keys[0].kid {
		t.Errorf("header = %v, want alg and kid only", h)
	}
	c := decodePart(t, id, 1)
	assertClaims(t, c, "sub", "cognito:groups", "email_verified", "iss", "cognito:username", "origin_jti",
		"aud", "event_id", "token_use", "auth_time", "exp", "iat", "jti", "email")
	if c["aud"] != p.ClientID() || c["token_use"] != "id" || c["cognito:username"] != "alice" ||
		c["email"] != "alice@example.com" || c["iss"] != testIssuer ||
		c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Add(2*time.Hour).Unix()) {
		t.Errorf("id claims = %v", c)
	}

	access, err := p.Mint(MintOptions{Issuer: testIssuer, User: "alice", Type: "access", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a := decodePart(t, access, 1)
	assertClaims(t, a, "sub", "iss", "version", "client_id", "origin_jti", "event_id", "token_use", "scope",
		"auth_time", "exp", "iat", "jti", "username")
	if a["client_id"] != p.ClientID() || a["token_use"] != "access" || a["scope"] != DefaultUserScope ||
		a["username"] != "alice" || a["version"] != float64(2) || a["exp"] != float64(now.Add(DefaultTTL).Unix()) {
		t.Errorf("access claims = %v", a)
	}

	// One user, one sub, in both token types and across mints; another user, another sub.
	again, _ := p.Mint(MintOptions{Issuer: testIssuer, User: "alice"})
	bob, _ := p.Mint(MintOptions{Issuer: testIssuer, User: "bob"})
	if c["sub"] != a["sub"] || c["sub"] != decodePart(t, again, 1)["sub"] || c["sub"] == decodePart(t, bob, 1)["sub"] {
		t.Error("sub is not a stable function of the username")
	}
	if c["jti"] == decodePart(t, again, 1)["jti"] {
		t.Error("jti repeated")
	}
}

func TestMintUsesRecordedIssuer(t *testing.T) {
	p := sharedProvider(t)
	const issuer = "http://127.0.0.1:9/_idp"
	if err := p.SetIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	tok, err := p.Mint(MintOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got := decodePart(t, tok, 1)["iss"]; got != issuer {
		t.Fatalf("iss = %v, want %s", got, issuer)
	}
}

func assertClaims(t *testing.T, claims map[string]any, want ...string) {
	t.Helper()
	var got []string
	for k := range claims {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claims %v, want %v", got, want)
	}
}
