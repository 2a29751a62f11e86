package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/health"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/web"
)

// Deps are what the services are built from.
type Deps struct {
	DB       *store.DB
	Bucket   *blob.Bucket // nil unless uploads runs
	Verifier *auth.Verifier
	Logger   *slog.Logger
	// MaxUpload is the uploads service's limit for a direct upload.
	MaxUpload int64
	// MaxPresignedSize is the uploads service's cap on a presigned upload; 0 is the default.
	MaxPresignedSize int64
	// Observe measures the services; nil measures nothing.
	Observe *Observability
}

// Built is one running service, or several sharing one handler.
type Built struct {
	// Handler serves the routes and /health-check.
	Handler http.Handler
	// Health answers /health-check; Drain it before stopping.
	Health *health.Checker
	// Patterns are the routes served, as ServeMux patterns (/health-check included).
	Patterns   []string
	background []func(context.Context)
}

// Background runs the services' housekeeping (expired idempotency keys) until ctx is done.
func (b *Built) Background(ctx context.Context) {
	for _, l := range b.background {
		go l(ctx)
	}
}

// Known reports whether name is a service of Names.
func Known(name string) bool { return slices.Contains(Names, name) }

// unknown is the error for a name not in Names.
func unknown(name string) error {
	return fmt.Errorf("unknown service %q (known: %s)", name, strings.Join(Names, ", "))
}

// Build assembles the named services behind one handler and one health check.
func Build(names []string, d Deps) (*Built, error) {
	if d.Observe == nil {
		d.Observe = &Observability{}
	}
	p := &parts{checks: map[string]health.Check{"database": d.DB.Ping}}
	for _, name := range names {
		if err := p.add(name, d); err != nil {
			return nil, err
		}
	}
	checker := health.New(p.checks, time.Second, 2*time.Second, d.Logger)
	// Each distinct token is RSA-verified once, then served from the cache until its exp: the
	// signature check was a third of a GET's CPU (bench/README.md, "service hot path").
	m := &auth.Middleware{Verifier: auth.NewCache(d.Verifier, 0, 0), WriteError: web.WriteError, Logger: d.Logger}
	h, rt, err := service.New(service.Config{
		Logger:       d.Logger,
		Authenticate: func(req auth.Requirement, next http.Handler) http.Handler { return m.Require(req)(next) },
		Health:       checker,
	}, p.routes...)
	if err != nil {
		return nil, err
	}
	h = d.Observe.service(strings.Join(names, ","), rt.Patterns(), h)
	return &Built{Handler: h, Health: checker, Patterns: rt.Patterns(), background: p.loops}, nil
}
