package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingVerifier counts the verifications that reach the real Verifier.
type countingVerifier struct {
	v     *Verifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, token string, req Requirement) (*Claims, error) {
	c.calls.Add(1)
	return c.v.Verify(ctx, token, req)
}

// newTestCache returns a Cache in front of a counting Verifier for srv, both on one fake clock.
func newTestCache(t testing.TB, srv *jwksServer, size int, maxAge time.Duration) (*Cache, *countingVerifier, *fakeClock) {
	t.Helper()
	v, clock := newTestVerifier(t, srv)
	cv := &countingVerifier{v: v}
	c := NewCache(cv, size, maxAge)
	c.now = clock.now
	return c, cv, clock
}

// A token is verified once, then served from the cache until its exp; then it is checked again
// and refused as expired, with the Verifier's reason.
func TestCacheVerifiesOnceUntilExp(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	c, cv, clock := newTestCache(t, srv, 0, 0)
	tok := signRS256(t, key, hdr("RS256", "k1"), with(idClaims(srv.issuer()), "exp", t0.Add(10*time.Minute).Unix()))

	first, err := c.Verify(ctxT(t), tok, Requirement{})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		got, err := c.Verify(ctxT(t), tok, Requirement{})
		if err != nil {
			t.Fatal(err)
		}
		if got != first {
			t.Fatal("a cache hit returned other claims")
		}
	}
	if n := cv.calls.Load(); n != 1 {
		t.Fatalf("verifier called %d times for 51 requests with one token, want 1", n)
	}
	clock.advance(10*time.Minute + DefaultLeeway + time.Second)
	if _, err := c.Verify(ctxT(t), tok, Requirement{}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired token: err = %v, want ErrInvalidToken", err)
	}
	if n := cv.calls.Load(); n != 2 {
		t.Fatalf("verifier called %d times, want 2: an expired entry must be checked again", n)
	}
}

// A token valid for a day is checked again once the cache's age limit has passed.
func TestCacheMaxAge(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	c, cv, clock := newTestCache(t, srv, 0, 5*time.Minute)
	tok := signRS256(t, key, hdr("RS256", "k1"), with(idClaims(srv.issuer()), "exp", t0.Add(24*time.Hour).Unix()))
	for _, step := range []time.Duration{0, 4 * time.Minute, 2 * time.Minute, time.Minute} {
		clock.advance(step)
		if _, err := c.Verify(ctxT(t), tok, Requirement{}); err != nil {
			t.Fatal(err)
		}
	}
	// t0, +4 min (hit), +6 min (past 5 min: verified again), +7 min (hit).
	if n := cv.calls.Load(); n != 2 {
		t.Fatalf("verifier called %d times, want 2", n)
	}
}

// Refusals are never cached: a forged token reaches the Verifier every time, and a token refused
// while its key was unknown verifies once the key is published.
func TestCacheDoesNotCacheRefusals(t *testing.T) {
	key, other := rsaKey(t, 0), rsaKey(t, 1)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	c, cv, clock := newTestCache(t, srv, 0, 0)
	forged := signRS256(t, other, hdr("RS256", "k1"), idClaims(srv.issuer()))
	for range 3 {
		if _, err := c.Verify(ctxT(t), forged, Requirement{}); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged token: err = %v", err)
		}
	}
	if n := cv.calls.Load(); n != 3 {
		t.Fatalf("verifier called %d times for 3 forged requests, want 3", n)
	}
	if c.Len() != 0 {
		t.Fatalf("cache holds %d entries after refusals only", c.Len())
	}

	rotated := signRS256(t, other, hdr("RS256", "k2"), idClaims(srv.issuer()))
	if _, err := c.Verify(ctxT(t), rotated, Requirement{}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of an unpublished key: err = %v", err)
	}
	srv.setKeys(t, jwkOf(t, key, "k1", "RS256"), jwkOf(t, other, "k2", "RS256"))
	clock.advance(DefaultRefreshInterval)
	if _, err := c.Verify(ctxT(t), rotated, Requirement{}); err != nil {
		t.Fatalf("token of a newly published key: %v", err)
	}
}

// A cached token is held to each route's requirement exactly as the Verifier holds it: same
// outcome class for every (token, requirement) pair, whichever route the token was first
// verified for.
func TestCacheAppliesRequirementLikeVerifier(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	iss := srv.issuer()
	tokens := map[string]string{
		"id":                  signRS256(t, key, hdr("RS256", "k1"), idClaims(iss)),
		"access read":         signRS256(t, key, hdr("RS256", "k1"), accessClaims(iss)),
		"access no scope":     signRS256(t, key, hdr("RS256", "k1"), with(accessClaims(iss), "scope", "")),
		"id other audience":   signRS256(t, key, hdr("RS256", "k1"), with(idClaims(iss), "aud", "someone-else")),
		"access other client": signRS256(t, key, hdr("RS256", "k1"), with(accessClaims(iss), "client_id", "someone-else")),
	}
	reqs := []Requirement{{}, {Scopes: []string{"decagon/read"}}, {Scopes: []string{"decagon/write"}},
		{Scopes: []string{"decagon/write", "openid"}}}
	class := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, ErrInvalidToken):
			return "401"
		case errors.Is(err, ErrInsufficientScope):
			return "403"
		default:
			return err.Error()
		}
	}
	for _, first := range reqs {
		t.Run(fmt.Sprintf("first %v", first.Scopes), func(t *testing.T) {
			v, _ := newTestVerifier(t, srv)
			c, _, _ := newTestCache(t, srv, 0, 0)
			for _, tok := range tokens { // warm the cache through one route
				_, _ = c.Verify(ctxT(t), tok, first)
			}
			for name, tok := range tokens {
				for _, req := range reqs {
					want, err := v.Verify(ctxT(t), tok, req)
					wantClass := class(err)
					got, err := c.Verify(ctxT(t), tok, req)
					if gotClass := class(err); gotClass != wantClass {
						t.Errorf("%s for %v: cache says %s (%v), verifier %s", name, req.Scopes, gotClass, err, wantClass)
					}
					if (got == nil) != (want == nil) || got != nil && got.Subject != want.Subject {
						t.Errorf("%s for %v: claims %+v, verifier's %+v", name, req.Scopes, got, want)
					}
				}
			}
		})
	}
}

// The cache never holds more than its size, however many distinct tokens arrive.
func TestCacheBounded(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	const size = 32
	c, cv, _ := newTestCache(t, srv, size, 0)
	for i := range 200 {
		tok := signRS256(t, key, hdr("RS256", "k1"), with(idClaims(srv.issuer()), "jti", fmt.Sprint(i)))
		if _, err := c.Verify(ctxT(t), tok, Requirement{}); err != nil {
			t.Fatal(err)
		}
		if n := c.Len(); n > size {
			t.Fatalf("after %d tokens the cache holds %d, more than its size %d", i+1, n, size)
		}
	}
	if n := cv.calls.Load(); n != 200 {
		t.Fatalf("verifier called %d times for 200 distinct tokens", n)
	}
}

// Concurrent requests with a few tokens (go test -race): every answer is right and each token
// is verified a handful of times at most (the first requests race to fill the cache).
func TestCacheConcurrent(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	c, cv, _ := newTestCache(t, srv, 0, 0)
	var toks []string
	for i := range 4 {
		toks = append(toks, signRS256(t, key, hdr("RS256", "k1"), with(idClaims(srv.issuer()), "jti", fmt.Sprint(i))))
	}
	forged := toks[0][:len(toks[0])-4] + "AAAA"
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if _, err := c.Verify(context.Background(), toks[(g+i)%len(toks)], Requirement{}); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Verify(context.Background(), forged, Requirement{}); err == nil {
					t.Error("forged token accepted")
					return
				}
			}
		})
	}
	wg.Wait()
	if n, forgedCalls := cv.calls.Load(), int64(8*200); n > forgedCalls+8*int64(len(toks)) {
		t.Fatalf("verifier called %d times; at most %d expected", n, forgedCalls+8*int64(len(toks)))
	}
}

// BenchmarkCacheHit is the cost of a request whose token verified before, next to
// BenchmarkVerify's full check.
func BenchmarkCacheHit(b *testing.B) {
	key := rsaKey(b, 0)
	srv := newJWKSServer(b, jwkOf(b, key, "k1", "RS256"))
	c, _, _ := newTestCache(b, srv, 0, 0)
	tok := signRS256(b, key, hdr("RS256", "k1"), idClaims(srv.issuer()))
	if _, err := c.Verify(b.Context(), tok, Requirement{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Verify(context.Background(), tok, Requirement{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// FuzzCache: the cache accepts a string exactly when the Verifier does, the first time and
// again from the cache, and never accepts anything but the one genuine token.
func FuzzCache(f *testing.F) {
	key := rsaKey(f, 0)
	srv := newJWKSServer(f, jwkOf(f, key, "k1", "RS256"))
	v, _ := newTestVerifier(f, srv)
	c, _, _ := newTestCache(f, srv, 64, 0)
	genuine := signRS256(f, key, hdr("RS256", "k1"), idClaims(srv.issuer()))
	f.Add(genuine)
	f.Add(genuine[:len(genuine)-2] + "AA")
	f.Add(" " + genuine)
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		_, want := v.Verify(context.Background(), token, Requirement{})
		for range 2 {
			claims, err := c.Verify(context.Background(), token, Requirement{})
			if (err == nil) != (want == nil) {
				t.Fatalf("cache says %v, verifier %v", err, want)
			}
			if err == nil && token != genuine {
				t.Fatalf("forged token accepted: %q -> %+v", token, claims)
			}
		}
	})
}
