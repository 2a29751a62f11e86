package auth

import (
	"context"

	"log/slog"
	"net/http"
	"strings"

	"github.com/decagon/decagon/internal/problem"
)

// TokenVerifier checks a bare token against a requirement; *Verifier implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, token string, req Requirement) (*Claims, error)
}

// Middleware authenticates requests before they reach a handler. The zero value of every field
// but Verifier works.
type Middleware struct {
	// Verifier checks the token.
	Verifier TokenVerifier
	// WriteError writes the response for a refused request. It receives the *problem.Problem from
	// ProblemFor, whose Cause holds the detailed reason (already logged by the middleware). When
	// nil, the problem is written as application/problem+json directly.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives one line per refused request, with the reason and the request ID;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// Require returns middleware that lets a request through only with a token meeting req, and puts
// the token's claims into the request context (see ClaimsFrom).
//
// The token is read from the Authorization header, as "Bearer <jwt>" or, as API Gateway's
// Cognito authorizer also accepts, the bare JWT.
func (m *Middleware) Require(req Requirement) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := bearerToken(r.Header)
			var claims *Claims
			if err == nil {
				claims, err = m.Verifier.Verify(r.Context(), token, req)
			}
			if err != nil {
				m.refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), claims)))
		})
	}
}

// refuse logs why a request was refused and writes the problem for it.
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, err error) {
	p := ProblemFor(err)
	logger := m.Logger
	if logger == nil {
		logger = slog.Default()
	}
	level := slog.LevelInfo
	if p.Status >= http.StatusInternalServerError {
		level = slog.LevelWarn
	}
	logger.LogAttrs(r.Context(), level, "request refused by authentication",
		slog.String("request_id", requestID(w, r)),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", p.Status),
		slog.String("reason", err.Error()))
	if m.WriteError != nil {
		m.WriteError(w, r, p)
		return
	}
	writeProblem(w, r, p)
}

// requestID is the request's ID: the response header a request-ID middleware has set, or else
// the request header.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	return r.Header.Get("X-Request-Id")
}

// writeProblem writes p through problem.Write, the one problem writer.
func writeProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
	problem.Write(w, p, requestID(w, r))
}

// bearerToken extracts the token from the Authorization header: "Bearer <token>" (scheme
// case-insensitive) or a bare token. A header with another scheme is an invalid token; more
// than one Authorization header is refused rather than guessed at.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrMissingToken
	case 1:
	default:
		return "", invalid("%d Authorization headers", len(values))
	}
	v := strings.TrimSpace(values[0])
	if v == "" || strings.EqualFold(v, "Bearer") {
		return "", ErrMissingToken
	}
	scheme, rest, found := strings.Cut(v, " ")
	if !found {
		return v, nil // the bare token, as API Gateway accepts it
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", invalid("authorization scheme %s is not Bearer", clip(scheme))
	}
	token := strings.TrimSpace(rest)
	if token == "" {
		return "", ErrMissingToken
	}
	return token, nil
}

type claimsKey struct{}

// WithClaims returns a copy of ctx carrying c.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the claims Middleware put into ctx.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
