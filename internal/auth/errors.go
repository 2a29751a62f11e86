package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/decagon/decagon/internal/problem"
)

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "decagon"

var (
	// ErrInvalidToken means the token is missing, malformed, forged, expired or not meant for
	// this API (issuer, audience, token_use, algorithm). It is answered with 401.
	ErrInvalidToken = errors.New("invalid token")
	// ErrMissingToken means the request carried no token at all. It matches ErrInvalidToken
	// with errors.Is; the challenge it gets carries no error code (RFC 6750 §3.1).
	ErrMissingToken = fmt.Errorf("%w: missing bearer token", ErrInvalidToken)
	// ErrInsufficientScope means the token is valid but carries none of the scopes the route
	// requires. It is answered with 403.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrKeysUnavailable means the token names a signing key that is not cached and the
	// issuer's JWKS could not be fetched. It is answered with 503 and Retry-After.
	ErrKeysUnavailable = errors.New("token signing keys unavailable")
)

// retryAfterSeconds is what a 503 for ErrKeysUnavailable tells the client to wait.
const retryAfterSeconds = 5

// invalid returns ErrInvalidToken wrapped with the reason a log line should show.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

// ProblemFor maps an error from Verify to the problem sent to the client: 401 with a Bearer
// challenge for ErrInvalidToken, 403 with error="insufficient_scope" for ErrInsufficientScope,
// 503 with Retry-After for ErrKeysUnavailable, and problem.From for anything else. The detail
// is a short fixed phrase; the detailed reason is only in Cause, which is logged, never sent.
func ProblemFor(err error) *problem.Problem {
	var p *problem.Problem
	switch {
	case errors.Is(err, ErrMissingToken):
		p = problem.New(http.StatusUnauthorized, "missing bearer token").
			With("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
	case errors.Is(err, ErrInvalidToken):
		p = problem.New(http.StatusUnauthorized, "invalid token").
			With("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token"`)
	case errors.Is(err, ErrInsufficientScope):
		p = problem.New(http.StatusForbidden, "insufficient scope").
			With("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope"`)
	case errors.Is(err, ErrKeysUnavailable):
		p = problem.New(http.StatusServiceUnavailable, "authentication temporarily unavailable").
			With("Retry-After", strconv.Itoa(retryAfterSeconds))
	default:
		return problem.From(err)
	}
	p.Cause = err
	return p
}

// clip quotes an attacker-controlled value for a log line, cut to a sane length.
func clip(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}
