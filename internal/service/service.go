// Package service assembles the HTTP handler a decagon service runs in its task: request IDs,
// the access log, panic recovery, /health-check, and every route of the service wrapped in the
// token check that api/openapi.yaml asks for. Routes the document does not hold are refused at
// start-up, so the code and the document cannot drift apart. Caller is who asks, read from the
// verified token. List is the one listing route handler both services use.
//
// It may import api, internal/auth, internal/listing, internal/web and the standard library;
// never a service's domain or store, the edge or the balancer.
package service

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/web"
)

// Authenticator wraps a handler in the token check for one requirement.
type Authenticator func(req auth.Requirement, next http.Handler) http.Handler

// Config is what every service needs besides its routes.
type Config struct {
	Logger *slog.Logger
	// Authenticate guards every operation that is not public in the document.
	Authenticate Authenticator
	// Health answers GET /health-check.
	Health http.Handler
}

// findOperation looks a route up in api/openapi.yaml; a test replaces it to exercise a document
// whose operations ask for scopes (the shipped one asks for none yet).
var findOperation = api.FindPattern

// New returns the handler serving routes (ServeMux patterns → handlers) and /health-check, and
// the router (whose Patterns a contract test compares with the document).
func New(cfg Config, routes ...map[string]http.Handler) (http.Handler, *web.Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Authenticate == nil {
		return nil, nil, fmt.Errorf("service: no authenticator")
	}
	rt := &web.Router{}
	if cfg.Health != nil {
		routes = append(routes, map[string]http.Handler{"GET /health-check": web.Quiet(cfg.Health)})
	}
	var patterns []string
	handlers := map[string]http.Handler{}
	for _, m := range routes {
		for p, h := range m {
			if _, dup := handlers[p]; dup {
				return nil, nil, fmt.Errorf("service: route %q registered twice", p)
			}
			handlers[p] = h
			patterns = append(patterns, p)
		}
	}
	sort.Strings(patterns)
	for _, p := range patterns {
		op, ok := findOperation(p)
		if !ok {
			return nil, nil, fmt.Errorf("service: route %q is not an operation of api/openapi.yaml", p)
		}
		h := handlers[p]
		if !op.Public {
			h = cfg.Authenticate(auth.Requirement{Scopes: op.Scopes}, h)
		}
		rt.Handle(p, h)
	}
	var h http.Handler = rt
	h = web.Recover(h)
	h = web.AccessLog(h)
	h = web.RequestIDs(cfg.Logger, h)
	return h, rt, nil
}
