// Command issuer is the WAF benchmark's token issuer: a Cognito-shaped issuer on loopback (an
// RSA key, its JWKS at {issuer}/.well-known/jwks.json, where decagon's authorizer fetches keys)
// that writes the issuer URL and one access token, as a signed-in user's, to -out and serves
// the JWKS until it is stopped. `decagon edge` verifies the token on every request, as API
// Gateway's Cognito authorizer does; nginx + ModSecurity passes it through.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to serve the JWKS on")
	clientID := flag.String("client-id", "wafbenchclient0123456789", "the app client ID the token is issued to")
	out := flag.String("out", "", "file to write \"ISSUER TOKEN\" to (required)")
	flag.Parse()
	if *out == "" {
		log.Fatal("issuer: -out is required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	iss := "http://" + ln.Addr().String() + "/pool"
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "wafbench", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "wafbench", "typ": "JWT"})
	// An access token as Cognito issues it to a signed-in user: the scope every operation of
	// api/openapi.yaml accepts.
	claims, _ := json.Marshal(map[string]any{
		"sub": "5b0c7a8e-6f2d-4f3a-9d1e-0000000000b1", "token_use": "access", "client_id": *clientID,
		"scope": "aws.cognito.signin.user.admin", "username": "wafbench", "iss": iss,
		"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(12 * time.Hour).Unix(), "jti": "wafbench-1",
	})
	input := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, []byte(fmt.Sprintf("%s %s.%s\n", iss, input, b64(sig))), 0o600); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}
