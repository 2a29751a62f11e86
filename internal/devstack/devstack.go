// Package devstack runs decagon's whole local stack, as `decagon dev` does: the edge (stage,
// authorizer, throttling, load balancer) on one address, the identity provider mounted on it at
// /_idp, and every service of decagon.yaml as a local ECS service (internal/ecs) whose tasks are
// child processes (`decagon serve <service>`) on loopback ports, registered in the service's
// target group. The scheduler keeps each service's desired count, replaces a task that exits or
// fails its health checks, scales with the service's step scaling policy and runs rolling
// deployments.
//
// The edge also serves a local admin API under /_dev/ (admin.go): the target groups and their
// targets with each task's pid, CPU and memory, the services with their counts, alarms,
// deployment and events, stopping a task and deploying a service. Cancelling the context drains
// the edge, then stops every task. The local endpoints (/_dev/, /_idp/, /metrics) answer only a
// Host that names the stack (hosts.go).
//
// Start takes built parts; StartLocal (local.go) builds them from `decagon dev`'s settings, and
// ServeEdge (standalone.go) runs `decagon edge`, the edge alone. front.go, observe.go and
// taskmetrics.go adapt the edge, the WAF, the tasks and the stack to the metrics, the traces
// and the dashboard; watch.go is `decagon dev --watch`. flags.go fills LocalConfig and
// EdgeConfig from the commands' flags, topology.go loads decagon.yaml for both, and banner.go
// is what `decagon dev` prints once up.
//
// It may import the edge, waf, topology, idp, auth, registry, store, blob, metrics, telemetry,
// dashboard, ecs, scaling, balancer, web and cli packages and the root package (the built-in
// decagon.yaml); only cmd/decagon imports it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/ecs"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/scaling"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/web"
)

// idpPrefix is where the identity provider is mounted.
const idpPrefix = "/_idp/"

// Config configures a Stack. Listener, Topology, Verifier and Command are required.
type Config struct {
	// Listener is the edge's listener. The caller opens it, because the identity provider's
	// issuer URL (and so the Verifier) may depend on its address.
	Listener net.Listener
	// Topology is decagon.yaml.
	Topology *topology.Topology
	// Verifier checks tokens at the edge's authorizer.
	Verifier auth.TokenVerifier
	// IDP, when set, is mounted at /_idp/ (the identity provider's handler), outside the
	// authorizer.
	IDP http.Handler
	// Command returns the command of a new task of service, which must listen on addr
	// (127.0.0.1:port) and answer the service's health check there: `decagon serve` in
	// `decagon dev` (see StartLocal). It is called for every task, so that a rebuilt binary
	// is picked up by the next task.
	Command func(service, addr string) *exec.Cmd
	// TaskLimits runs each task in a cgroup of its decagon.yaml cpu and memory where cgroups
	// are writable; the stack says at start when they are not.
	TaskLimits bool
	// ScalingSpeedup divides every alarm period and cooldown of the step scaling policies: 1
	// (real time) when zero.
	ScalingSpeedup int
	// TaskOutput receives the tasks' stdout and stderr: io.Discard when nil.
	TaskOutput io.Writer
	// WAF, when set, wraps the edge's routing (internal/waf).
	WAF func(http.Handler) http.Handler
	// TrustedProxies are the peers whose X-Forwarded-* headers the edge keeps.
	TrustedProxies edge.TrustedProxies
	// Mounts are more local endpoints on the edge by path prefix (a dashboard under /_dev/...).
	// Prefixes /_idp/, /_dev/targets and /_dev/services are taken. Like those, they answer only
	// requests whose Host names the stack (see hostGuard): the listen address, localhost, a
	// loopback IP or one of AllowedHosts; others get 421.
	Mounts map[string]http.Handler
	// AllowedHosts are more Host header values (a name, or name:port) the local endpoints
	// answer: the names of a stack that listens on a non-loopback address.
	AllowedHosts []string
	// Drain is how long, on shutdown, the edge keeps serving before the tasks are stopped; 0
	// stops at once (in-flight requests still finish).
	Drain time.Duration
	// ReadyTimeout bounds the wait at start for every service to run its desired count, all
	// healthy: 60 s when zero.
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
	logger   *slog.Logger
	services []*ecs.Service // in topology order
	byName   map[string]*ecs.Service
	served   chan error
	stopRun  context.CancelFunc // stops the services' schedulers, which stop their tasks
	running  sync.WaitGroup     // the schedulers
	stopOnce sync.Once
}

// Start builds the edge, starts every service's tasks, serves the edge on cfg.Listener, and
// returns once every service runs its desired count, all healthy. The stack runs until ctx is
// done; Wait returns then, after everything has stopped.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	switch {
	case cfg.Listener == nil:
		return nil, errors.New("devstack: no listener")
	case cfg.Topology == nil:
		return nil, errors.New("devstack: no topology")
	case cfg.Command == nil:
		return nil, errors.New("devstack: no task command")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.TaskOutput == nil {
		cfg.TaskOutput = io.Discard
	}
	if cfg.ScalingSpeedup <= 0 {
		cfg.ScalingSpeedup = 1
	}
	s := &Stack{cfg: cfg, logger: cfg.Logger, byName: map[string]*ecs.Service{},
		url: "http://" + cfg.Listener.Addr().String(), served: make(chan error, 1)}
	guard := newHostGuard(cfg.Listener.Addr(), cfg.AllowedHosts)
	mounts := map[string]http.Handler{}
	for p, h := range cfg.Mounts {
		mounts[p] = guard.wrap(h)
	}
	if cfg.IDP != nil {
		mounts[idpPrefix] = guard.wrap(cfg.IDP)
	}
	admin := guard.wrap(s.adminHandler())
	mounts[targetsPrefix] = admin
	mounts[servicesPrefix] = admin
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
	// The schedulers outlive ctx: on shutdown the edge drains first, then Wait stops them.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRun = stopRun
	for _, svc := range cfg.Topology.Services {
		es, err := s.newService(svc)
		if err != nil {
			s.stopServices()
			e.Close()
			return nil, err
		}
		s.services = append(s.services, es)
		s.byName[svc.Name] = es
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			_ = es.Run(runCtx) // returns nil once its tasks have stopped
		}()
	}
	if err := s.waitReady(ctx); err != nil {
		s.stopServices()
		e.Close()
		return nil, err
	}
	s.srv = edge.NewServer(e, cfg.Logger)
	go func() {
		s.served <- web.Serve(ctx, s.srv, cfg.Listener, cfg.Drain, nil, cfg.Logger)
	}()
	tasks := 0
	for _, es := range s.services {
		tasks += es.Status().Running
	}
	cfg.Logger.Info("local stack up", "url", s.url, "tasks", tasks)
	return s, nil
}

// newService builds the local ECS service of a service of decagon.yaml over its target group.
func (s *Stack) newService(svc topology.Service) (*ecs.Service, error) {
	g, _ := s.edge.Group(svc.Name)
	c := ecs.ConfigFor(svc)
	c.Targets = ecs.GroupTargets(g)
	c.Command = func(addr string) *exec.Cmd { return s.cfg.Command(svc.Name, addr) }
	c.TaskLimits = s.cfg.TaskLimits
	sc := scaling.ConfigFor(svc, s.cfg.ScalingSpeedup)
	c.Scaling = &sc
	// The target group drains a task before it is signalled; a second more covers the wait
	// for the group to drop it.
	c.DrainTimeout = balancer.DefaultDeregistrationDelay + time.Second
	c.Output = s.cfg.TaskOutput
	c.Logger = s.cfg.Logger
	es, err := ecs.New(c)
	if err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	return es, nil
}

// waitReady waits until every service runs its desired count, all healthy.
func (s *Stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	for _, es := range s.services {
		if st, err := es.WaitFor(ctx, ecs.Steady); err != nil {
			return fmt.Errorf("devstack: service %s: %d of %d tasks healthy after %s: %w",
				es.Name(), st.Healthy, st.Desired, s.cfg.ReadyTimeout, err)
		}
	}
	return nil
}

// URL returns the edge's base URL ("http://127.0.0.1:8080").
func (s *Stack) URL() string { return s.url }

// Edge returns the edge, for its target groups.
func (s *Stack) Edge() *edge.Edge { return s.edge }

// Service returns the local ECS service of a service of decagon.yaml.
func (s *Stack) Service(name string) (*ecs.Service, bool) {
	es, ok := s.byName[name]
	return es, ok
}

// Services returns the stack's services in decagon.yaml's order.
func (s *Stack) Services() []*ecs.Service { return append([]*ecs.Service(nil), s.services...) }

// Wait blocks until the stack's context is done and everything has stopped: the edge drained
// and shut down (in-flight requests finish), then every task, then the health checks.
func (s *Stack) Wait() error {
	err := <-s.served
	s.stopServices()
	s.edge.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stopServices stops every scheduler and waits for their tasks to exit.
func (s *Stack) stopServices() {
	s.stopOnce.Do(func() {
		s.stopRun()
		s.running.Wait()
	})
}
