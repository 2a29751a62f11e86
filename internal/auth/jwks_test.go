package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := rsaKey(t, 0), rsaKey(t, 1)
	srv := newJWKSServer(t, jwkOf(t, oldKey, "old", "RS256"))
	v, clock := newTestVerifier(t, srv)
	iss := srv.issuer()
	oldTok := signRS256(t, oldKey, hdr("RS256", "old"), idClaims(iss))
	newTok := func() string { // fresh for the clock's time
		now := clock.now()
		return signRS256(t, newKey, hdr("RS256", "new"), with(idClaims(iss), "iat", now.Unix(), "exp", now.Add(time.Hour).Unix()))
	}

	_, err := v.Verify(ctxT(t), oldTok, Requirement{})
	must(t, err)
	srv.setKeys(t, jwkOf(t, oldKey, "old", "RS256"), jwkOf(t, newKey, "new", "RS256"))

	// Within the refresh interval the new kid is unknown and no fetch happens.
	clock.advance(DefaultRefreshInterval - time.Second)
	if _, err := v.Verify(ctxT(t), newTok(), Requirement{}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("new kid within interval: %v, want ErrInvalidToken", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times within the interval, want 1", n)
	}

	clock.advance(2 * time.Second)
	if _, err := v.Verify(ctxT(t), newTok(), Requirement{}); err != nil {
		t.Fatalf("new kid after interval: %v", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}

	// The old key is withdrawn: after the next refetch its tokens are refused.
	srv.setKeys(t, jwkOf(t, newKey, "new", "RS256"))
	clock.advance(DefaultRefreshInterval)
	_ = v.Refresh(ctxT(t))
	oldTok = signRS256(t, oldKey, hdr("RS256", "old"), with(idClaims(iss), "exp", clock.now().Add(time.Hour).Unix()))
	if _, err := v.Verify(ctxT(t), oldTok, Requirement{}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("withdrawn key: %v, want ErrInvalidToken", err)
	}
}

func TestRefetchRateLimit(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, clock := newTestVerifier(t, srv)
	claims := idClaims(srv.issuer())

	// Many concurrent callers on a cold cache share one fetch; the JWKS answers only once all
	// of them have asked, so they really are waiting on it together.
	gate := make(chan struct{})
	srv.gate.Store(&gate)
	const callers = 50
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		kid := "k1"
		if i%2 == 1 {
			kid = fmt.Sprintf("unknown-%d", i)
		}
		// Signed here, not in the goroutine: signRS256 may call t.Fatal, which only the test's
		// own goroutine may do.
		tok := signRS256(t, key, hdr("RS256", kid), claims)
		wg.Go(func() {
			_, err := v.Verify(ctxT(t), tok, Requirement{})
			if kid == "k1" && err != nil {
				errs <- fmt.Errorf("known kid: %w", err)
			}
			if kid != "k1" && !errors.Is(err, ErrInvalidToken) {
				errs <- fmt.Errorf("unknown kid: %v, want ErrInvalidToken", err)
			}
		})
	}
	waitFor(t, func() bool { return srv.hits.Load() >= 1 })
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Many more unknown kids within the interval: still no second fetch.
	for i := range 100 {
		clock.advance(50 * time.Millisecond)
		tok := signRS256(t, key, hdr("RS256", fmt.Sprintf("flood-%d", i)), claims)
		if _, err := v.Verify(ctxT(t), tok, Requirement{}); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("unknown kid %d: %v", i, err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

func TestJWKSDown(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, clock := newTestVerifier(t, srv)
	tok := signRS256(t, key, hdr("RS256", "k1"), idClaims(srv.issuer()))
	unknown := signRS256(t, key, hdr("RS256", "k2"), idClaims(srv.issuer()))

	_, err := v.Verify(ctxT(t), tok, Requirement{})
	must(t, err)

	for _, failure := range []string{"500", "not JSON", "no usable key", "closed"} {
		switch failure {
		case "500":
			srv.status.Store(http.StatusInternalServerError)
		case "not JSON":
			srv.status.Store(0)
			b := []byte("<html>")
			srv.body.Store(&b)
		case "no usable key":
			b := []byte(`{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}`)
			srv.body.Store(&b)
		case "closed":
			srv.Close()
		}
		clock.advance(DefaultRefreshInterval)
		if _, err := v.Verify(ctxT(t), unknown, Requirement{}); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("%s: unknown kid: %v, want ErrKeysUnavailable", failure, err)
		}
		// Within the interval the failure is remembered without fetching again.
		if _, err := v.Verify(ctxT(t), unknown, Requirement{}); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("%s: unknown kid again: %v, want ErrKeysUnavailable", failure, err)
		}
		if _, err := v.Verify(ctxT(t), tok, Requirement{}); err != nil {
			t.Fatalf("%s: cached key stopped working: %v", failure, err)
		}
	}
}

func TestJWKSUnreachableAtStart(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, clock := newTestVerifier(t, srv)
	tok := signRS256(t, key, hdr("RS256", "k1"), idClaims(srv.issuer()))
	srv.status.Store(http.StatusServiceUnavailable)

	if _, err := v.Verify(ctxT(t), tok, Requirement{}); !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("JWKS down: %v, want only ErrKeysUnavailable", err)
	}
	srv.status.Store(0)
	clock.advance(DefaultRefreshInterval)
	if _, err := v.Verify(ctxT(t), tok, Requirement{}); err != nil {
		t.Fatalf("JWKS back: %v", err)
	}
}

func TestVerifyContextCanceledWhileFetching(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, _ := newTestVerifier(t, srv)
	gate := make(chan struct{})
	srv.gate.Store(&gate)
	t.Cleanup(func() { close(gate) })

	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	tok := signRS256(t, key, hdr("RS256", "k1"), idClaims(srv.issuer())) // t.Fatal only from here
	go func() {
		_, err := v.Verify(ctx, tok, Requirement{})
		done <- err
	}()
	waitFor(t, func() bool { return srv.hits.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, want ErrKeysUnavailable wrapping context.Canceled", err)
	}
}

func TestParseKeySet(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
	// jwx refuses to import a weak key, so spell its JWK out.
	smallJWK := json.RawMessage(fmt.Sprintf(`{"kty":"RSA","kid":"small","alg":"RS256","n":%q,"e":"AQAB"}`, b64(small.N.Bytes())))
	good := rsaKey(t, 0)
	priv, err := jwk.Import(good)
	must(t, err)
	must(t, priv.Set(jwk.KeyIDKey, "priv"))
	encKey := jwkOf(t, good, "enc", "")
	must(t, encKey.Set(jwk.KeyUsageKey, "enc"))
	oaep := jwkOf(t, good, "oaep", "RSA-OAEP")
	doc := func(keys ...any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		must(t, err)
		return b
	}

	tests := []struct {
		name    string
		body    []byte
		wantErr bool
		kids    []string
	}{
		{"good", doc(jwkOf(t, good, "a", "RS256"), jwkOf(t, newECKey(t), "b", "ES256")), false, []string{"a", "b"}},
		{"private key kept public only", doc(priv), false, []string{"priv"}},
		{"odd keys skipped", doc(jwkOf(t, good, "a", "RS256"), smallJWK, encKey, oaep,
			json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}`), jwkOf(t, good, "", "RS256")), false, []string{"a"}},
		{"duplicate kid dropped", doc(jwkOf(t, good, "a", "RS256"), jwkOf(t, rsaKey(t, 1), "a", "RS256"), jwkOf(t, good, "b", "RS256")), false, []string{"b"}},
		{"mismatched alg skipped", doc(jwkOf(t, good, "a", "ES256"), jwkOf(t, good, "b", "RS256")), false, []string{"b"}},
		{"only weak", doc(smallJWK), true, nil},
		{"empty", doc(), true, nil},
		{"only symmetric", []byte(`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`), true, nil},
		{"not JSON", []byte("nope"), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := parseKeySet(tc.body)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseKeySet error = %v, wantErr %v", err, tc.wantErr)
			}
			if len(set) != len(tc.kids) {
				t.Fatalf("kids = %v, want %v", keysOf(set), tc.kids)
			}
			for _, kid := range tc.kids {
				k, ok := set[kid]
				if !ok {
					t.Fatalf("kids = %v, want %v", keysOf(set), tc.kids)
				}
				if _, isPriv := k.key.(*rsa.PrivateKey); isPriv {
					t.Fatalf("kid %s kept private material", kid)
				}
			}
		})
	}
}

func TestJWKSSizeLimit(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	b := []byte(`{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBytes) + `"}`)
	srv.body.Store(&b)
	v, _ := newTestVerifier(t, srv)
	if err := v.Refresh(ctxT(t)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Refresh with oversized JWKS: %v", err)
	}
}

func keysOf(s keySet) []string {
	var kids []string
	for k := range s {
		kids = append(kids, k)
	}
	return kids
}

// waitFor polls cond until it holds or the test's deadline nears.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
