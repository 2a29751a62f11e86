package edge

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/decagon/decagon/internal/auth"
)

// DefaultTokenCacheSize bounds the verified-token cache when Config.TokenCacheSize is zero.
const DefaultTokenCacheSize = 10000

// authorizer applies API Gateway's Cognito authorizer rules with a cache of verified tokens:
// a token that verified once is accepted again without a signature check until its exp (or
// maxAge, whichever is first). The cache is keyed by the SHA-256 of the token, so it holds no
// usable credential, and never caches a refusal.
type authorizer struct {
	verifier auth.TokenVerifier
	maxAge   time.Duration
	size     int
	now      func() time.Time

	shards [16]tokenShard
}

type tokenShard struct {
	mu sync.RWMutex
	m  map[[32]byte]cachedToken
}

type cachedToken struct {
	claims  *auth.Claims
	expires int64 // unix nanoseconds
}

func newAuthorizer(v auth.TokenVerifier, size int, maxAge time.Duration) *authorizer {
	if size <= 0 {
		size = DefaultTokenCacheSize
	}
	if maxAge <= 0 {
		maxAge = time.Hour
	}
	a := &authorizer{verifier: v, size: size, maxAge: maxAge, now: time.Now}
	for i := range a.shards {
		a.shards[i].m = make(map[[32]byte]cachedToken)
	}
	return a
}

// authorize checks the request's Authorization header against req: nil when allowed, an error
// wrapping auth.ErrInvalidToken, auth.ErrInsufficientScope or auth.ErrKeysUnavailable when not.
func (a *authorizer) authorize(ctx context.Context, header []string, req auth.Requirement) (*auth.Claims, error) {
	token, err := bearerToken(header)
	if err != nil {
		return nil, err
	}
	// The token is only read: hashing its bytes in place saves a copy per request.
	key := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
	sh := &a.shards[key[0]&15]
	now := a.now()
	sh.mu.RLock()
	c, ok := sh.m[key]
	sh.mu.RUnlock()
	if ok && now.UnixNano() < c.expires {
		return c.claims, permits(c.claims, req)
	}
	claims, err := a.verifier.Verify(ctx, token, req)
	if err != nil {
		return nil, err
	}
	expires := min(claims.ExpiresAt.UnixNano(), now.Add(a.maxAge).UnixNano())
	sh.mu.Lock()
	if len(sh.m) >= a.size/len(a.shards) {
		a.evictLocked(sh, now.UnixNano())
	}
	sh.m[key] = cachedToken{claims: claims, expires: expires}
	sh.mu.Unlock()
	return claims, nil
}

// evictLocked drops expired entries, and if none expired an arbitrary tenth of the shard.
func (a *authorizer) evictLocked(sh *tokenShard, now int64) {
	for k, c := range sh.m {
		if now >= c.expires {
			delete(sh.m, k)
		}
	}
	drop := len(sh.m) - (a.size/len(a.shards))*9/10
	for k := range sh.m { // map order is random: a random victim each time
		if drop <= 0 {
			break
		}
		delete(sh.m, k)
		drop--
	}
}

// permits applies a requirement to the claims of a token verified earlier (possibly for
// another requirement), with the verifier's rules: no scopes wants an ID token; scopes want an
// access token carrying one of them. The audience or client_id was checked at verification,
// for whichever use the token has.
func permits(c *auth.Claims, req auth.Requirement) error {
	if len(req.Scopes) == 0 {
		if c.TokenUse != "id" {
			return errWrongUse
		}
		return nil
	}
	if c.TokenUse != "access" {
		return errWrongUse
	}
	if !slices.ContainsFunc(req.Scopes, c.HasScope) {
		return errNoScope
	}
	return nil
}

var (
	errWrongUse = errors.Join(auth.ErrInvalidToken, errors.New("token_use does not fit the route (cached token)"))
	errNoScope  = errors.Join(auth.ErrInsufficientScope, errors.New("token carries none of the route's scopes (cached token)"))
)

// bearerToken extracts the token as API Gateway's Cognito authorizer reads it: "Bearer <jwt>"
// (scheme case-insensitive) or the bare JWT; two Authorization headers are refused.
func bearerToken(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", auth.ErrMissingToken
	case 1:
	default:
		return "", errors.Join(auth.ErrInvalidToken, errors.New("several Authorization headers"))
	}
	v := strings.TrimSpace(values[0])
	if v == "" {
		return "", auth.ErrMissingToken
	}
	scheme, rest, found := strings.Cut(v, " ")
	if !found {
		return v, nil
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errors.Join(auth.ErrInvalidToken, errors.New("authorization scheme is not Bearer"))
	}
	if t := strings.TrimSpace(rest); t != "" {
		return t, nil
	}
	return "", auth.ErrMissingToken
}
