package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/decagon/decagon/internal/balancer"
	"github.com/decagon/decagon/internal/web"
)

// replicaStopTimeout bounds how long a stopping replica waits for its in-flight requests.
const replicaStopTimeout = 10 * time.Second

// replica is one in-process task of a service: its own http.Server on a loopback port,
// registered in the service's target group under a stable ID.
type replica struct {
	id      string
	service string
	group   *balancer.Group
	logger  *slog.Logger

	mu      sync.Mutex // guards the fields below; held across start and stop
	srv     *http.Server
	addr    string
	drain   func()
	running bool
	served  chan struct{}
}

// start builds a fresh replica of the service, listens on a new loopback port and registers
// it (replacing its earlier address, if any). Starting a running replica does nothing.
func (r *replica) start(ctx context.Context, factory ServiceFactory) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return nil
	}
	h, drain, err := factory(ctx, r.service)
	if err != nil {
		return fmt.Errorf("devstack: replica %s: %w", r.id, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("devstack: replica %s: listen: %w", r.id, err)
	}
	logger := r.logger.With("service", r.service, "replica", r.id)
	r.srv = web.NewServer(h, logger)
	r.addr = ln.Addr().String()
	r.drain = drain
	r.served = make(chan struct{})
	r.running = true
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			logger.Error("replica stopped serving", "err", err)
		}
	}(r.srv, r.served)
	logger.Info("replica started", "addr", r.addr)
	return r.group.Register(r.id, r.addr)
}

// stop closes the replica's listener and waits for its in-flight requests, as a task that
// stops. It stays registered: the target group finds out by its failing health checks.
func (r *replica) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), replicaStopTimeout)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		r.logger.Warn("replica shutdown", "replica", r.id, "err", err)
		_ = r.srv.Close()
	}
	<-r.served
	r.running = false
	r.logger.Info("replica stopped", "replica", r.id, "addr", r.addr)
}

// drainNow makes the replica's health check answer 503.
func (r *replica) drainNow() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running && r.drain != nil {
		r.drain()
	}
}

// snapshot is the replica as the admin API shows it.
func (r *replica) snapshot() (addr string, running bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr, r.running
}
