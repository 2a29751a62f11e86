package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

const testClientID = "1example23456789abcdefghij"

// t0 is the fixed "now" of tests that control the clock.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	rsaKeysOnce sync.Once
	rsaKeys     []*rsa.PrivateKey
)

// rsaKey returns the i-th (0..3) of a few RSA-2048 keys generated once per test binary.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

// jwkOf returns the public JWK of key with kid and, when alg is not "", alg.
func jwkOf(t testing.TB, key crypto.Signer, kid, alg string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	must(t, k.Set(jwk.KeyIDKey, kid))
	must(t, k.Set(jwk.KeyUsageKey, "sig"))
	if alg != "" {
		must(t, k.Set(jwk.AlgorithmKey, alg))
	}
	return k
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// jwksServer serves a JWKS that tests can replace, count fetches of, break and block.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int64
	body   atomic.Pointer[[]byte]
	status atomic.Int64                  // 0 means 200
	gate   atomic.Pointer[chan struct{}] // when set, requests wait for it to close
}

func newJWKSServer(t testing.TB, keys ...jwk.Key) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pool/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		s.hits.Add(1)
		if g := s.gate.Load(); g != nil {
			<-*g
		}
		if code := s.status.Load(); code != 0 {
			w.WriteHeader(int(code))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...jwk.Key) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		must(t, set.AddKey(k))
	}
	b, err := json.Marshal(set)
	must(t, err)
	s.body.Store(&b)
}

func (s *jwksServer) issuer() string { return s.URL + "/pool" }

// fakeClock is a settable clock for Verifier.now.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// newTestVerifier returns a Verifier for srv's issuer on a fake clock at t0.
func newTestVerifier(t testing.TB, srv *jwksServer) (*Verifier, *fakeClock) {
	t.Helper()
	v, err := NewVerifier(Config{Issuer: srv.issuer(), ClientIDs: []string{"other-client", testClientID},
		Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	clock := newClock(t0)
	v.now = clock.now
	return v, clock
}

// idClaims are the claims of a valid ID token for issuer at t0.
func idClaims(issuer string) map[string]any {
	return map[string]any{
		"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "aud": testClientID, "token_use": "id",
		"cognito:username": "alice", "cognito:groups": []string{"admin", "dev"},
		"email": "alice@example.com", "iss": issuer,
		"auth_time": t0.Unix(), "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "j1",
	}
}

// accessClaims are the claims of a valid access token for issuer at t0.
func accessClaims(issuer string) map[string]any {
	return map[string]any{
		"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "client_id": testClientID, "token_use": "access",
		"scope": "decagon/read openid", "username": "alice", "iss": issuer,
		"auth_time": t0.Unix(), "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "j2", "version": 2,
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b64(b)
}

// signRS256 signs header and claims with key, whatever the header says, like an attacker or an
// issuer would.
func signRS256(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	must(t, err)
	return input + "." + b64(sig)
}

// signPS256 signs with RSASSA-PSS.
func signPS256(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	must(t, err)
	return input + "." + b64(sig)
}

// signES256 signs with ECDSA P-256 in JWS's r||s form.
func signES256(t testing.TB, key *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	must(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return k
}

func hdr(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

// with returns a copy of m with the given changes; a nil value deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
