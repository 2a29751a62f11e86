package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

const (
	// fetchTimeout bounds one JWKS fetch, whoever waits for it.
	fetchTimeout = 5 * time.Second
	// maxJWKSBytes bounds the JWKS document; Cognito's is about 1 KiB.
	maxJWKSBytes = 1 << 20
	// minRSABits refuses weak RSA keys even when the issuer publishes them.
	minRSABits = 2048
)

// publicKey is one usable signing key from the JWKS.
type publicKey struct {
	kid string
	alg string // the JWK's alg, "" when the JWK names none
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// keySet is an immutable snapshot of the issuer's keys by kid.
type keySet map[string]*publicKey

// fetchCall is one JWKS fetch that any number of callers may wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

// key returns the key for kid, fetching the JWKS when kid is unknown and the last fetch attempt
// is older than RefreshInterval.
func (v *Verifier) key(ctx context.Context, kid string) (*publicKey, error) {
	if k := v.cached(kid); k != nil {
		return k, nil
	}
	v.mu.Lock()
	if k := v.cached(kid); k != nil { // a fetch finished while we took the lock
		v.mu.Unlock()
		return k, nil
	}
	call := v.inflight
	if call == nil {
		if !v.lastAttempt.IsZero() && v.now().Sub(v.lastAttempt) < v.refresh {
			lastErr := v.lastErr
			v.mu.Unlock()
			if lastErr != nil {
				return nil, fmt.Errorf("%w: unknown key id %s and the last fetch failed: %w", ErrKeysUnavailable, clip(kid), lastErr)
			}
			return nil, invalid("unknown key id %s (JWKS refetch rate-limited)", clip(kid))
		}
		call = v.startFetch(ctx)
	}
	v.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for JWKS: %w", ErrKeysUnavailable, ctx.Err())
	}
	if k := v.cached(kid); k != nil {
		return k, nil
	}
	if call.err != nil {
		return nil, fmt.Errorf("%w: unknown key id %s: %w", ErrKeysUnavailable, clip(kid), call.err)
	}
	return nil, invalid("unknown key id %s", clip(kid))
}

// cached returns the cached key for kid or nil. It takes no lock: the set is replaced whole.
func (v *Verifier) cached(kid string) *publicKey {
	if set := v.keys.Load(); set != nil {
		return (*set)[kid]
	}
	return nil
}

// Refresh fetches the JWKS now, whatever the rate limit, or joins a fetch already running. Call
// it at start-up to have keys before the first request; Verify fetches on its own otherwise.
func (v *Verifier) Refresh(ctx context.Context) error {
	v.mu.Lock()
	call := v.inflight
	if call == nil {
		call = v.startFetch(ctx)
	}
	v.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("refresh JWKS: %w", ctx.Err())
	}
}

// startFetch starts a fetch in the background and records it as in flight. The fetch keeps the
// caller's context values but not its cancellation, because other callers may wait for it too.
// v.mu must be held.
func (v *Verifier) startFetch(ctx context.Context) *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	v.inflight = call
	v.lastAttempt = v.now()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	go func() {
		defer cancel()
		set, err := v.fetch(fctx)
		v.mu.Lock()
		if err == nil {
			v.keys.Store(&set)
		} else {
			// Keep the keys we have: a failed fetch must not lock out valid tokens.
			v.logger.WarnContext(fctx, "JWKS fetch failed", "url", v.jwksURL, "err", err)
		}
		v.lastErr = err
		v.inflight = nil
		call.err = err
		v.mu.Unlock()
		close(call.done)
	}()
	return call
}

// fetch downloads and parses the JWKS.
func (v *Verifier) fetch(ctx context.Context) (keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %d", v.jwksURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("read JWKS: larger than %d bytes", maxJWKSBytes)
	}
	return parseKeySet(body)
}

// parseKeySet keeps the usable signing keys of a JWKS document: asymmetric, with a kid, meant
// for signatures, of a supported algorithm and of sufficient strength. Other keys are skipped,
// so one odd key cannot make the whole set unusable; a set with no usable key is an error.
func parseKeySet(body []byte) (keySet, error) {
	// Ignoring keys jwx cannot parse (weak RSA, unknown kty) keeps one odd key from making the
	// whole set unusable.
	set, err := jwk.Parse(body, jwk.WithIgnoreParseError(true))
	if err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := make(keySet, set.Len())
	var skipped []error
	for i := range set.Len() {
		k, _ := set.Key(i)
		pk, err := usableKey(k)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		if _, dup := keys[pk.kid]; dup {
			// Two keys under one kid: we cannot know which one a token means.
			delete(keys, pk.kid)
			skipped = append(skipped, fmt.Errorf("duplicate kid %s", clip(pk.kid)))
			continue
		}
		keys[pk.kid] = pk
	}
	if len(keys) == 0 {
		if len(skipped) == 0 {
			return nil, errors.New("parse JWKS: no usable signing key")
		}
		return nil, fmt.Errorf("parse JWKS: no usable signing key: %w", errors.Join(skipped...))
	}
	return keys, nil
}

// usableKey converts one JWK into a public verification key or says why it is not usable.
func usableKey(k jwk.Key) (*publicKey, error) {
	kid, _ := k.KeyID()
	if kid == "" {
		return nil, errors.New("key without kid")
	}
	if use, ok := k.KeyUsage(); ok && use != "sig" {
		return nil, fmt.Errorf("key %s: use %s", clip(kid), clip(use))
	}
	pk := &publicKey{kid: kid}
	if a, ok := k.Algorithm(); ok {
		pk.alg = a.String()
		if _, allowed := allowedAlgs[pk.alg]; !allowed {
			return nil, fmt.Errorf("key %s: alg %s not allowed", clip(kid), clip(pk.alg))
		}
	}
	switch k.KeyType() {
	case jwa.RSA(), jwa.EC():
	default:
		return nil, fmt.Errorf("key %s: key type %s not allowed", clip(kid), k.KeyType())
	}
	pub, err := k.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", clip(kid), err)
	}
	var raw any
	if err := jwk.Export(pub, &raw); err != nil {
		return nil, fmt.Errorf("key %s: %w", clip(kid), err)
	}
	switch key := raw.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("key %s: RSA key of %d bits", clip(kid), key.N.BitLen())
		}
		pk.key = key
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, fmt.Errorf("key %s: unsupported curve", clip(kid))
		}
		pk.key = key
	default:
		return nil, fmt.Errorf("key %s: unsupported key %T", clip(kid), raw)
	}
	if pk.alg != "" && !algFitsKey(pk.alg, pk.key) {
		return nil, fmt.Errorf("key %s: alg %s does not fit the key", clip(kid), pk.alg)
	}
	return pk, nil
}

// algFitsKey says whether alg can be verified with key: RSA algorithms with RSA keys, each
// ECDSA algorithm with its own curve.
func algFitsKey(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	}
	return false
}
