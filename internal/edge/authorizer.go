package edge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
)

// DefaultTokenCacheSize bounds the verified-token cache when Config.TokenCacheSize is zero.
const DefaultTokenCacheSize = auth.DefaultCacheSize

// authorizer applies API Gateway's Cognito authorizer rules through the cache of verified tokens
// the services use too (auth.Cache): a token that verified once is accepted again without a
// signature check until its exp (or maxAge, whichever is first), and still held to each route's
// token_use and scopes. The cache is keyed by the SHA-256 of the token, so it holds no usable
// credential, and never caches a refusal.
type authorizer struct {
	cache *auth.Cache
}

func newAuthorizer(v auth.TokenVerifier, size int, maxAge time.Duration) *authorizer {
	return &authorizer{cache: auth.NewCache(v, size, maxAge)}
}

// authorize checks the request's Authorization header against req: nil when allowed, an error
// wrapping auth.ErrInvalidToken, auth.ErrInsufficientScope or auth.ErrKeysUnavailable when not.
func (a *authorizer) authorize(ctx context.Context, header []string, req auth.Requirement) (*auth.Claims, error) {
	token, err := bearerToken(header)
	if err != nil {
		return nil, err
	}
	return a.cache.Verify(ctx, token, req)
}

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
