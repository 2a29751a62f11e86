package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"time"
)

const (
	clientID = "benchclient0123456789abcd"
	// subject is the token's sub: the owner of every record the harness seeds and reads.
	subject = "5b0c7a8e-6f2d-4f3a-9d1e-000000000001"
)

// issuer is a Cognito-shaped token issuer on loopback: an RSA key, its JWKS at
// {url}/.well-known/jwks.json (where decagon's verifier fetches keys), and one ID token.
type issuer struct {
	url   string
	token string
	srv   *http.Server
}

func startIssuer() (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String() + "/pool"
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	now := time.Now()
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "bench", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		// A signed-in user's access token: every operation lists aws.cognito.signin.user.admin.
		"sub": subject, "client_id": clientID, "token_use": "access", "scope": "aws.cognito.signin.user.admin",
		"username": "bench", "cognito:groups": []string{"dev"}, "version": 2,
		"iss": url, "auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(12 * time.Hour).Unix(),
		"jti": "bench-1", "origin_jti": "bench-1", "event_id": "bench",
	})
	input := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	return &issuer{url: url, token: input + "." + b64(sig), srv: srv}, nil
}

func (i *issuer) close() { _ = i.srv.Close() }
