package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	good, attacker := rsaKey(t, 0), rsaKey(t, 1)
	ecKey := newECKey(t)
	srv := newJWKSServer(t,
		jwkOf(t, good, "k1", "RS256"),
		jwkOf(t, good, "k1-noalg", ""),
		jwkOf(t, ecKey, "ec1", "ES256"))
	v, _ := newTestVerifier(t, srv)
	iss := srv.issuer()
	id, access := idClaims(iss), accessClaims(iss)
	needID, needRead := Requirement{}, Requirement{Scopes: []string{"decagon/write", "decagon/read"}}

	// An attacker-controlled JWKS, to prove the verifier never goes there.
	var attackerHits atomic.Int64
	evilKey := jwkOf(t, attacker, "k1", "RS256") // here: the handler runs on the server's goroutine, where t.Fatal may not
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{evilKey}})
	}))
	t.Cleanup(evil.Close)

	// HS256 "signed" with bytes of the public key, as in the classic alg-confusion attack.
	pubDER, err := x509.MarshalPKIXPublicKey(&good.PublicKey)
	must(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs256 := func(secret []byte, kid string) string {
		input := b64JSON(t, hdr("HS256", kid)) + "." + b64JSON(t, id)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}

	valid := signRS256(t, good, hdr("RS256", "k1"), id)
	parts := strings.Split(valid, ".")
	tamperedClaims := b64JSON(t, with(id, "cognito:groups", []string{"admin"}, "sub", "someone-else"))

	tests := []struct {
		name  string
		token string
		req   Requirement
		want  error // nil means accepted
	}{
		{"valid id token", valid, needID, nil},
		{"valid id token, key without alg", signRS256(t, good, hdr("RS256", "k1-noalg"), id), needID, nil},
		{"valid PS256 with key without alg", signPS256(t, good, hdr("PS256", "k1-noalg"), id), needID, nil},
		{"valid ES256", signES256(t, ecKey, hdr("ES256", "ec1"), id), needID, nil},
		{"valid access token with scope", signRS256(t, good, hdr("RS256", "k1"), access), needRead, nil},
		{"expired", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", t0.Add(-time.Minute).Unix())), needID, ErrInvalidToken},
		{"expired within leeway", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", t0.Add(-2*time.Second).Unix())), needID, nil},
		{"no exp", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", nil)), needID, ErrInvalidToken},
		{"nbf in future", signRS256(t, good, hdr("RS256", "k1"), with(id, "nbf", t0.Add(time.Minute).Unix())), needID, ErrInvalidToken},
		{"iat in future", signRS256(t, good, hdr("RS256", "k1"), with(id, "iat", t0.Add(time.Minute).Unix())), needID, ErrInvalidToken},
		{"wrong issuer", signRS256(t, good, hdr("RS256", "k1"), with(id, "iss", iss+"x")), needID, ErrInvalidToken},
		{"issuer with trailing slash", signRS256(t, good, hdr("RS256", "k1"), with(id, "iss", iss+"/")), needID, ErrInvalidToken},
		{"no issuer", signRS256(t, good, hdr("RS256", "k1"), with(id, "iss", nil)), needID, ErrInvalidToken},
		{"wrong aud", signRS256(t, good, hdr("RS256", "k1"), with(id, "aud", "someone-elses-client")), needID, ErrInvalidToken},
		{"two audiences", signRS256(t, good, hdr("RS256", "k1"), with(id, "aud", []string{testClientID, "x"})), needID, ErrInvalidToken},
		{"no sub", signRS256(t, good, hdr("RS256", "k1"), with(id, "sub", nil)), needID, ErrInvalidToken},
		{"token_use not a string", signRS256(t, good, hdr("RS256", "k1"), with(id, "token_use", 1)), needID, ErrInvalidToken},
		{"groups not an array", signRS256(t, good, hdr("RS256", "k1"), with(id, "cognito:groups", "admin")), needID, ErrInvalidToken},
		{"id token where access needed", valid, needRead, ErrInvalidToken},
		{"access token where id needed", signRS256(t, good, hdr("RS256", "k1"), access), needID, ErrInvalidToken},
		{"access token, wrong client_id", signRS256(t, good, hdr("RS256", "k1"), with(access, "client_id", "nope")), needRead, ErrInvalidToken},
		{"access token lacking scope", signRS256(t, good, hdr("RS256", "k1"), with(access, "scope", "openid")), needRead, ErrInsufficientScope},
		{"access token without scope claim", signRS256(t, good, hdr("RS256", "k1"), with(access, "scope", nil)), needRead, ErrInsufficientScope},
		{"expired access token lacking scope is 401", signRS256(t, good, hdr("RS256", "k1"), with(access, "scope", "x", "exp", t0.Add(-time.Hour).Unix())), needRead, ErrInvalidToken},
		{"alg none, no signature", b64JSON(t, hdr("none", "k1")) + "." + b64JSON(t, id) + ".", needID, ErrInvalidToken},
		{"alg none with valid signature", b64JSON(t, hdr("none", "k1")) + "." + parts[1] + "." + parts[2], needID, ErrInvalidToken},
		{"alg None", b64JSON(t, hdr("None", "k1")) + "." + parts[1] + "." + parts[2], needID, ErrInvalidToken},
		{"HS256 with public key PEM as secret", hs256(pubPEM, "k1"), needID, ErrInvalidToken},
		{"HS256 with public key DER as secret", hs256(pubDER, "k1"), needID, ErrInvalidToken},
		{"ES256 header on RSA key", signES256(t, newECKey(t), hdr("ES256", "k1"), id), needID, ErrInvalidToken},
		{"ES256 header on RSA key without alg", signES256(t, newECKey(t), hdr("ES256", "k1-noalg"), id), needID, ErrInvalidToken},
		{"ES384 header on P-256 key", signES256(t, ecKey, hdr("ES384", "ec1"), id), needID, ErrInvalidToken},
		{"PS256 header on RS256-only key", signPS256(t, good, hdr("PS256", "k1"), id), needID, ErrInvalidToken},
		{"RS256 header on EC key", signRS256(t, good, hdr("RS256", "ec1"), id), needID, ErrInvalidToken},
		{"missing kid", signRS256(t, good, hdr("RS256", ""), id), needID, ErrInvalidToken},
		{"embedded jwk of attacker", signRS256(t, attacker, with(hdr("RS256", "k1"), "jwk", jwkOf(t, attacker, "k1", "RS256")), id), needID, ErrInvalidToken},
		{"jku to attacker", signRS256(t, attacker, with(hdr("RS256", "k1"), "jku", evil.URL), id), needID, ErrInvalidToken},
		{"x5u to attacker", signRS256(t, attacker, with(hdr("RS256", "k1"), "x5u", evil.URL), id), needID, ErrInvalidToken},
		{"signed by attacker with known kid", signRS256(t, attacker, hdr("RS256", "k1"), id), needID, ErrInvalidToken},
		{"crit header", signRS256(t, good, with(hdr("RS256", "k1"), "crit", []string{"exp"}, "exp", 1), id), needID, ErrInvalidToken},
		{"b64 false", signRS256(t, good, with(hdr("RS256", "k1"), "b64", false), id), needID, ErrInvalidToken},
		{"tampered payload", parts[0] + "." + tamperedClaims + "." + parts[2], needID, ErrInvalidToken},
		{"tampered header", b64JSON(t, with(hdr("RS256", "k1"), "typ", "JWT")) + "." + parts[1] + "." + parts[2], needID, ErrInvalidToken},
		{"truncated signature", valid[:len(valid)-4], needID, ErrInvalidToken},
		{"non-canonical signature encoding", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + bumpLast(parts[2]), needID, ErrInvalidToken},
		{"empty", "", needID, ErrMissingToken},
		{"garbage", "garbage", needID, ErrInvalidToken},
		{"two parts", parts[0] + "." + parts[1], needID, ErrInvalidToken},
		{"JWE shape", valid + ".a.b", needID, ErrInvalidToken},
		{"JSON serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, needID, ErrInvalidToken},
		{"padded base64", valid + "==", needID, ErrInvalidToken},
		{"whitespace", valid + " ", needID, ErrInvalidToken},
		{"empty header", "." + parts[1] + "." + parts[2], needID, ErrInvalidToken},
		{"header not JSON", b64([]byte("not json")) + "." + parts[1] + "." + parts[2], needID, ErrInvalidToken},
		// RFC 7519 §2: a NumericDate is a JSON number. jwx reads "1795944575" as a date too.
		{"exp as a string", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", strconv.FormatInt(t0.Add(time.Hour).Unix(), 10))), needID, ErrInvalidToken},
		{"nbf as a string", signRS256(t, good, hdr("RS256", "k1"), with(id, "nbf", strconv.FormatInt(t0.Unix(), 10))), needID, ErrInvalidToken},
		{"iat as a string", signRS256(t, good, hdr("RS256", "k1"), with(id, "iat", strconv.FormatInt(t0.Unix(), 10))), needID, ErrInvalidToken},
		{"auth_time as a string", signRS256(t, good, hdr("RS256", "k1"), with(id, "auth_time", strconv.FormatInt(t0.Unix(), 10))), needID, ErrInvalidToken},
		{"exp as an RFC 3339 string", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", t0.Add(time.Hour).Format(time.RFC3339))), needID, ErrInvalidToken},
		{"exp as a boolean", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", true)), needID, ErrInvalidToken},
		{"exp null", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", json.RawMessage("null"))), needID, ErrInvalidToken},
		{"exp with a fraction", signRS256(t, good, hdr("RS256", "k1"), with(id, "exp", float64(t0.Add(time.Hour).Unix())+0.5)), needID, nil},
		{"access token exp as a string", signRS256(t, good, hdr("RS256", "k1"), with(access, "exp", strconv.FormatInt(t0.Add(time.Hour).Unix(), 10))), needRead, ErrInvalidToken},
		{"too large", signRS256(t, good, hdr("RS256", "k1"), with(id, "pad", strings.Repeat("x", MaxTokenBytes))), needID, ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Verify(ctxT(t), tc.token, tc.req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if claims.Subject == "" || claims.TokenUse == "" || claims.ClientID != testClientID {
					t.Fatalf("claims incomplete: %+v", claims)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			t.Logf("refused: %v", err)
			if claims != nil {
				t.Fatalf("claims returned with error: %+v", claims)
			}
			if tc.want == ErrInvalidToken && errors.Is(err, ErrInsufficientScope) {
				t.Fatalf("error %v is both invalid and insufficient scope", err)
			}
			if tc.want == ErrInvalidToken && err.Error() == ErrInvalidToken.Error() {
				t.Fatalf("error %v carries no reason", err)
			}
		})
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("attacker's key server was contacted %d times", n)
	}
}

// bumpLast returns the last character of a base64url string with its unused low bits set: a
// second spelling of the same bytes that a lenient decoder accepts.
func bumpLast(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	c := strings.IndexByte(alphabet, s[len(s)-1])
	return string(alphabet[c|1])
}

func TestVerifyClaims(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, _ := newTestVerifier(t, srv)

	c, err := v.Verify(ctxT(t), signRS256(t, key, hdr("RS256", "k1"), idClaims(srv.issuer())), Requirement{})
	must(t, err)
	if c.Username != "alice" || c.Email != "alice@example.com" || c.TokenUse != "id" ||
		!c.InGroup("admin") || c.InGroup("adm") || !c.ExpiresAt.Equal(t0.Add(time.Hour)) || !c.IssuedAt.Equal(t0) {
		t.Errorf("id claims = %+v", c)
	}

	c, err = v.Verify(ctxT(t), signRS256(t, key, hdr("RS256", "k1"), accessClaims(srv.issuer())), Requirement{Scopes: []string{"decagon/read"}})
	must(t, err)
	if c.Username != "alice" || c.TokenUse != "access" || !c.HasScope("openid") || len(c.Scopes) != 2 || len(c.Groups) != 0 {
		t.Errorf("access claims = %+v", c)
	}
	var nilClaims *Claims
	if nilClaims.InGroup("admin") || nilClaims.HasScope("x") {
		t.Error("nil Claims grants something")
	}
}

func TestNewVerifierConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"cognito", Config{Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", ClientIDs: []string{"a"}}, true},
		{"local", Config{Issuer: "http://127.0.0.1:8080/_idp", ClientIDs: []string{"a"}, Leeway: MaxLeeway}, true},
		{"relative issuer", Config{Issuer: "/_idp", ClientIDs: []string{"a"}}, false},
		{"ftp issuer", Config{Issuer: "ftp://h/x", ClientIDs: []string{"a"}}, false},
		{"issuer with query", Config{Issuer: "https://h/x?a=b", ClientIDs: []string{"a"}}, false},
		{"no client", Config{Issuer: "https://h/x"}, false},
		{"blank client", Config{Issuer: "https://h/x", ClientIDs: []string{" "}}, false},
		{"negative leeway", Config{Issuer: "https://h/x", ClientIDs: []string{"a"}, Leeway: -time.Second}, false},
		{"huge leeway", Config{Issuer: "https://h/x", ClientIDs: []string{"a"}, Leeway: time.Hour}, false},
		{"negative refresh", Config{Issuer: "https://h/x", ClientIDs: []string{"a"}, RefreshInterval: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewVerifier error = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && v.Issuer() != tc.cfg.Issuer {
				t.Fatalf("Issuer() = %q", v.Issuer())
			}
		})
	}
}
