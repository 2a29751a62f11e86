package idp

import (
	"encoding/json"
	"net/http"

	"github.com/decagon/decagon/internal/problem"
)

// Paths Handler serves.
const (
	discoveryPath = PathPrefix + "/.well-known/openid-configuration"
	jwksPath      = PathPrefix + "/.well-known/jwks.json"
	tokenPath     = PathPrefix + "/oauth2/token"
)

// Handler returns the provider's HTTP endpoints. Requests arrive with their full path
// (/_idp/...); mount it at PathPrefix + "/".
func (p *Provider) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case discoveryPath:
			if allow(w, r, http.MethodGet, http.MethodHead) {
				p.serveDiscovery(w, r)
			}
		case jwksPath:
			if allow(w, r, http.MethodGet, http.MethodHead) {
				w.Header().Set("Cache-Control", "public, max-age=300")
				writeJSON(w, http.StatusOK, json.RawMessage(p.jwks))
			}
		case tokenPath:
			if allow(w, r, http.MethodPost) {
				p.serveToken(w, r)
			}
		default:
			writeProblem(w, problem.New(http.StatusNotFound, "no such identity provider endpoint"))
		}
	})
}

// serveDiscovery writes the OpenID discovery document.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	// The endpoints are where the request reached the provider: the issuer is an identifier
	// that may name no address the stack listens on (LocalIssuer).
	here := requestBase(r)
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuerFor(r),
		"jwks_uri":                              here + "/.well-known/jwks.json",
		"token_endpoint":                        here + "/oauth2/token",
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      p.scopes,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

// issuerFor is the issuer for tokens and documents served to r: the recorded one, or when none
// is recorded, the one r was addressed to.
func (p *Provider) issuerFor(r *http.Request) string {
	if issuer, err := p.Issuer(); err == nil {
		return issuer
	}
	return requestBase(r)
}

// requestBase is the provider's URL as r addressed it.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + PathPrefix
}

// allow answers 405 with Allow unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	allowed := methods[0]
	for _, m := range methods[1:] {
		allowed += ", " + m
	}
	writeProblem(w, problem.Newf(http.StatusMethodNotAllowed, "method %s not allowed", r.Method).With("Allow", allowed))
	return false
}

// writeJSON writes v as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem.New(http.StatusInternalServerError, "internal error"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeProblem writes p through problem.Write, the one problem writer, with the request ID a
// request-ID middleware has set on the response, if any.
func writeProblem(w http.ResponseWriter, p *problem.Problem) {
	problem.Write(w, p, w.Header().Get("X-Request-Id"))
}
