package balancer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/decagon/decagon/internal/topology"
)

// State is the health state of a target, as an ALB reports it.
type State int32

// Target states.
const (
	// StateInitial is a newly registered target whose health checks have not yet decided.
	StateInitial State = iota
	// StateHealthy targets receive requests.
	StateHealthy
	// StateUnhealthy targets failed UnhealthyThreshold checks in a row.
	StateUnhealthy
	// StateDraining targets are deregistered: no new requests, in-flight ones finish.
	StateDraining
)

// String returns the state's name as ALB spells it, in lower case.
func (s State) String() string {
	switch s {
	case StateInitial:
		return "initial"
	case StateHealthy:
		return "healthy"
	case StateUnhealthy:
		return "unhealthy"
	case StateDraining:
		return "draining"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// ErrNoHealthyTarget is returned when a group has no target to send a request to: none is
// registered, or every one is draining or refuses connections (see Pick).
var ErrNoHealthyTarget = errors.New("no healthy target")

// DefaultDeregistrationDelay is how long a draining target may finish in-flight requests when
// Config.DeregistrationDelay is zero (ALB's default is 300 s; locally a few seconds do).
const DefaultDeregistrationDelay = 5 * time.Second

// Config configures a Group.
type Config struct {
	// Name names the group (the service it serves); requests for the group carry it as their
	// URL host.
	Name string
	// HealthCheck is the active health check of every target, as topology.Parse made it
	// (HealthCheck.ForLocal for the local timing); required.
	HealthCheck topology.HealthCheck
	// Transport forwards requests to targets; a Transport from NewTransport when nil.
	Transport http.RoundTripper
	// DeregistrationDelay bounds how long a draining target stays: DefaultDeregistrationDelay
	// when zero.
	DeregistrationDelay time.Duration
	// Logger receives one line per state change; slog.Default() when nil.
	Logger *slog.Logger
}

// Group is a target group: a set of targets, their health checks, and the choice of a target
// for each request. It is safe for concurrent use.
type Group struct {
	name      string
	check     topology.HealthCheck
	transport http.RoundTripper
	checker   *http.Client
	delay     time.Duration
	logger    *slog.Logger

	targets atomic.Pointer[[]*Target] // copy-on-write; readers never lock
	rr      atomic.Uint32             // rotates the starting point among ties

	mu      sync.Mutex // serializes writers of targets
	closed  bool
	wg      sync.WaitGroup
	chMu    sync.Mutex    // guards changes; apart from mu because notify runs under mu too
	changes chan struct{} // closed and replaced on every state change, for Changed
}

// Target is one address of a group.
type Target struct {
	// ID identifies the target within its group (a task ID; a replica name locally).
	ID string
	// Addr is host:port.
	Addr string

	state       atomic.Int32
	outstanding atomic.Int64
	// refused is set while the target's last health check could not connect: nothing
	// listens there (a stopped replica), so failing open to it would only fail again.
	refused atomic.Bool
	pool    pool // idle connections of Forward
	stop    chan struct{}
	removed chan struct{}
}

// State returns the target's health state.
func (t *Target) State() State { return State(t.state.Load()) }

// Outstanding returns the number of requests in flight to the target.
func (t *Target) Outstanding() int64 { return t.outstanding.Load() }

// New returns an empty group. Register adds targets; Close stops the health checks.
func New(cfg Config) (*Group, error) {
	if cfg.Name == "" {
		return nil, errors.New("balancer: group without a name")
	}
	if err := checkSettings(cfg.HealthCheck); err != nil {
		return nil, fmt.Errorf("balancer: group %s: %w", cfg.Name, err)
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport()
	}
	if cfg.DeregistrationDelay <= 0 {
		cfg.DeregistrationDelay = DefaultDeregistrationDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	g := &Group{
		name:      cfg.Name,
		check:     cfg.HealthCheck,
		transport: cfg.Transport,
		checker:   newCheckClient(),
		delay:     cfg.DeregistrationDelay,
		logger:    cfg.Logger.With("target_group", cfg.Name),
		changes:   make(chan struct{}),
	}
	g.targets.Store(&[]*Target{})
	return g, nil
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// Targets returns a snapshot of the group's targets (draining ones included).
func (g *Group) Targets() []*Target { return slices.Clone(*g.targets.Load()) }

// Register adds a target in the initial state and starts its health checks. Registering an ID
// that is already present replaces it (a replica restarted on another port): the old target
// drains.
func (g *Group) Register(id, addr string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("balancer: group %s is closed", g.name)
	}
	old := *g.targets.Load()
	next := make([]*Target, 0, len(old)+1)
	for _, t := range old {
		if t.ID == id && t.State() != StateDraining {
			g.drainLocked(t)
		}
		next = append(next, t)
	}
	t := &Target{ID: id, Addr: addr, stop: make(chan struct{}), removed: make(chan struct{})}
	next = append(next, t)
	g.targets.Store(&next)
	g.logger.Info("target registered", "target", id, "addr", addr)
	g.wg.Add(1)
	go g.runChecks(t)
	g.notify()
	return nil
}

// Deregister drains the target with the given ID: it gets no new requests and is removed once
// its in-flight requests finish or the deregistration delay passes. It reports whether the ID
// was registered.
func (g *Group) Deregister(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	found := false
	for _, t := range *g.targets.Load() {
		if t.ID == id && t.State() != StateDraining {
			g.drainLocked(t)
			found = true
		}
	}
	return found
}

// drainLocked moves t to draining and removes it later; g.mu is held.
func (g *Group) drainLocked(t *Target) {
	g.setState(t, StateDraining, "deregistered")
	close(t.stop)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		deadline := time.NewTimer(g.delay)
		defer deadline.Stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for t.outstanding.Load() > 0 {
			select {
			case <-deadline.C:
				g.remove(t)
				return
			case <-tick.C:
			}
		}
		g.remove(t)
	}()
}

func (g *Group) remove(t *Target) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.targets.Load()
	next := make([]*Target, 0, len(old))
	for _, o := range old {
		if o != t {
			next = append(next, o)
		}
	}
	g.targets.Store(&next)
	t.pool.closeAll()
	close(t.removed)
	g.logger.Info("target removed", "target", t.ID, "addr", t.Addr)
	g.notify()
}

// Close deregisters nothing but stops every health check and waits for the group's goroutines.
func (g *Group) Close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		for _, t := range *g.targets.Load() {
			if t.State() != StateDraining {
				close(t.stop)
			}
		}
	}
	g.mu.Unlock()
	g.wg.Wait()
	g.checker.CloseIdleConnections()
	for _, t := range *g.targets.Load() {
		t.pool.closeAll()
	}
}

// Pick returns the healthy target with the fewest outstanding requests, skipping except (which
// may be nil); ties go to the targets in turn. The caller must call Release when the request to
// the target is done.
//
// When no target is healthy, Pick fails open as an ALB does (ELB User Guide, "Health checks
// for Application Load Balancer target groups": a group with only unhealthy registered targets
// routes to all of them): it picks among the unhealthy targets, so that a shared dependency failing every health check at once (the database) does
// not turn into a 503 from the load balancer, and requests succeed again as soon as the
// targets can serve, without waiting for their healthy threshold. Initial targets are not
// among them (their registration is in progress, as in ALB), nor draining ones (deregistered:
// ALB sends them nothing new), nor ones whose last health check could not even connect (a
// stopped replica, which ECS would have deregistered); with only those left, Pick returns
// ErrNoHealthyTarget.
func (g *Group) Pick(except *Target) (*Target, error) {
	ts := *g.targets.Load()
	n := len(ts)
	if n == 0 {
		return nil, ErrNoHealthyTarget
	}
	start := int(g.rr.Add(1) % uint32(n))
	var best, open *Target
	var bestLoad, openLoad int64
	for i := 0; i < n; i++ {
		t := ts[(start+i)%n]
		if t == except {
			continue
		}
		load := t.outstanding.Load()
		switch State(t.state.Load()) {
		case StateHealthy:
			if best == nil || load < bestLoad {
				best, bestLoad = t, load
			}
		case StateUnhealthy:
			if !t.refused.Load() && (open == nil || load < openLoad) {
				open, openLoad = t, load
			}
		}
	}
	if best == nil {
		if open == nil {
			return nil, ErrNoHealthyTarget
		}
		best = open
	}
	best.outstanding.Add(1)
	return best, nil
}

// Release ends one request to t started by Pick.
func (g *Group) Release(t *Target) { t.outstanding.Add(-1) }

// setState records a state change and logs it.
func (g *Group) setState(t *Target, to State, why string) {
	from := State(t.state.Swap(int32(to)))
	if from == to {
		return
	}
	g.logger.Info("target health changed", "target", t.ID, "addr", t.Addr, "from", from.String(), "to", to.String(), "reason", why)
	g.notify()
}

// notify wakes every waiter on Changed.
func (g *Group) notify() {
	g.chMu.Lock()
	defer g.chMu.Unlock()
	close(g.changes)
	g.changes = make(chan struct{})
}

// Changed returns a channel closed at the next state change of any target of the group, so
// that callers can wait for a condition without polling blindly.
func (g *Group) Changed() <-chan struct{} {
	g.chMu.Lock()
	defer g.chMu.Unlock()
	return g.changes
}

// WaitHealthy waits until at least n targets are healthy or ctx is done.
func (g *Group) WaitHealthy(ctx context.Context, n int) error {
	for {
		ch := g.Changed()
		healthy := 0
		for _, t := range *g.targets.Load() {
			if t.State() == StateHealthy {
				healthy++
			}
		}
		if healthy >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("target group %s: %d of %d targets healthy: %w", g.name, healthy, n, ctx.Err())
		case <-ch:
		}
	}
}
