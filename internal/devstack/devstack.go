// Package devstack runs decagon's whole local stack in one process, as `decagon dev` does: the
// edge (stage, authorizer, throttling, load balancer) on one address, the identity provider
// mounted on it at /_idp, and desiredCount replicas of every service of decagon.yaml, each an
// http.Server of its own on a loopback port, registered in its service's target group.
//
// The edge also serves a local admin API under /_dev/ (see admin.go): the target groups and
// their targets, and stopping and starting a replica, so that failover can be watched and
// tested by hand. Cancelling the context drains and stops everything. The local endpoints
// (/_dev/, /_idp/, /metrics) answer only a Host that names the stack (hosts.go).
//
// Start takes built parts; StartLocal (local.go) builds them from `decagon dev`'s settings, and
// ServeEdge (standalone.go) runs `decagon edge`, the edge alone. front.go and observe.go adapt
// the edge, the WAF and the stack to the metrics, the traces and the dashboard.
//
// It may import the edge, waf, topology, idp, auth, registry, store, blob, metrics, telemetry,
// dashboard and web packages; only cmd/decagon imports it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/web"
)

// idpPrefix is where the identity provider is mounted.
const idpPrefix = "/_idp/"

// ServiceFactory builds one replica of a service: its handler (routes, /health-check), and a
// drain function that makes its /health-check answer 503 from then on. It is called once per
// replica start, so a restarted replica is a fresh one.
type ServiceFactory func(ctx context.Context, service string) (handler http.Handler, drain func(), err error)

// Config configures a Stack. Listener, Topology, Verifier and NewService are required.
type Config struct {
	// Listener is the edge's listener. The caller opens it, because the identity provider's
	// issuer URL (and so the Verifier) depends on its address.
	Listener net.Listener
	// Topology is decagon.yaml.
	Topology *topology.Topology
	// Verifier checks tokens at the edge's authorizer.
	Verifier auth.TokenVerifier
	// IDP, when set, is mounted at /_idp/ (the identity provider's handler), outside the
	// authorizer.
	IDP http.Handler
	// NewService builds the replicas.
	NewService ServiceFactory
	// WAF, when set, wraps the edge's routing (internal/waf).
	WAF func(http.Handler) http.Handler
	// TrustedProxies are the peers whose X-Forwarded-* headers the edge keeps.
	TrustedProxies edge.TrustedProxies
	// Mounts are more local endpoints on the edge by path prefix (a dashboard under /_dev/...).
	// Prefixes /_idp/ and /_dev/targets are taken. Like those, they answer only requests whose
	// Host names the stack (see hostGuard): the listen address, localhost, a loopback IP or one
	// of AllowedHosts; others get 421.
	Mounts map[string]http.Handler
	// AllowedHosts are more Host header values (a name, or name:port) the local endpoints
	// answer: the names of a stack that listens on a non-loopback address.
	AllowedHosts []string
	// Drain is how long, on shutdown, the edge keeps serving while the replicas' health checks
	// answer 503; 0 stops at once (in-flight requests still finish).
	Drain time.Duration
	// ReadyTimeout bounds the wait at start for every replica to pass its health checks:
	// 30 s when zero.
	ReadyTimeout time.Duration
	// AccessLog receives the edge's access log lines; none when nil.
	AccessLog io.Writer
	// Observe is told of every request the edge finished (metrics, the dashboard); see
	// edge.Config.Observe.
	Observe func(*edge.Observation)
	// Logger receives the stack's events; slog.Default() when nil.
	Logger *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	cfg      Config
	edge     *edge.Edge
	srv      *http.Server
	url      string
	ctx      context.Context
	logger   *slog.Logger
	replicas []*replica // in topology order, then by number
	byID     map[string]*replica
	served   chan error
	stopOnce sync.Once
}

// Start builds the edge, starts every replica, serves the edge on cfg.Listener, and returns
// once every replica is healthy. The stack runs until ctx is done; Wait returns then, after
// everything has stopped.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	switch {
	case cfg.Listener == nil:
		return nil, errors.New("devstack: no listener")
	case cfg.Topology == nil:
		return nil, errors.New("devstack: no topology")
	case cfg.NewService == nil:
		return nil, errors.New("devstack: no service factory")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 30 * time.Second
	}
	s := &Stack{cfg: cfg, ctx: ctx, logger: cfg.Logger, byID: map[string]*replica{},
		url: "http://" + cfg.Listener.Addr().String(), served: make(chan error, 1)}
	guard := newHostGuard(cfg.Listener.Addr(), cfg.AllowedHosts)
	mounts := map[string]http.Handler{}
	for p, h := range cfg.Mounts {
		mounts[p] = guard.wrap(h)
	}
	if cfg.IDP != nil {
		mounts[idpPrefix] = guard.wrap(cfg.IDP)
	}
	mounts[adminPrefix] = guard.wrap(s.adminHandler())
	e, err := edge.New(edge.Config{
		Topology:       cfg.Topology,
		Verifier:       cfg.Verifier,
		TrustedProxies: cfg.TrustedProxies,
		WAF:            cfg.WAF,
		Mounts:         mounts,
		AccessLog:      cfg.AccessLog,
		Observe:        cfg.Observe,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.edge = e
	for _, svc := range cfg.Topology.Services {
		g, _ := e.Group(svc.Name)
		for i := 1; i <= svc.DesiredCount; i++ {
			r := &replica{id: fmt.Sprintf("%s-%d", svc.Name, i), service: svc.Name, group: g, logger: cfg.Logger}
			s.replicas = append(s.replicas, r)
			s.byID[r.id] = r
		}
	}
	for _, r := range s.replicas {
		if err := r.start(ctx, cfg.NewService); err != nil {
			s.stopReplicas()
			e.Close()
			return nil, err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		s.stopReplicas()
		e.Close()
		return nil, err
	}
	s.srv = edge.NewServer(e, cfg.Logger)
	go func() {
		s.served <- web.Serve(ctx, s.srv, cfg.Listener, cfg.Drain, s.drainReplicas, cfg.Logger)
	}()
	cfg.Logger.Info("local stack up", "url", s.url, "replicas", len(s.replicas))
	return s, nil
}

// waitReady waits until every target group has all its replicas healthy.
func (s *Stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	for _, svc := range s.cfg.Topology.Services {
		g, _ := s.edge.Group(svc.Name)
		if err := g.WaitHealthy(ctx, svc.DesiredCount); err != nil {
			return fmt.Errorf("devstack: replicas not healthy: %w", err)
		}
	}
	return nil
}

// URL returns the edge's base URL ("http://127.0.0.1:8080").
func (s *Stack) URL() string { return s.url }

// Edge returns the edge, for its target groups.
func (s *Stack) Edge() *edge.Edge { return s.edge }

// Wait blocks until the stack's context is done and everything has stopped: the edge drained
// and shut down (in-flight requests finish), then every replica, then the health checks.
func (s *Stack) Wait() error {
	err := <-s.served
	s.stopReplicas()
	s.edge.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// drainReplicas makes every replica's health check fail, as ECS does to a stopping task.
func (s *Stack) drainReplicas() {
	for _, r := range s.replicas {
		r.drainNow()
	}
}

// stopReplicas shuts every replica down, in parallel.
func (s *Stack) stopReplicas() {
	s.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, r := range s.replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.stop()
			}()
		}
		wg.Wait()
	})
}

// replica returns the replica with an ID from the admin API.
func (s *Stack) replica(id string) (*replica, bool) {
	r, ok := s.byID[strings.TrimSpace(id)]
	return r, ok
}
