package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/topology"
)

// LocalConfig is `decagon dev`: the whole stack from its settings.
type LocalConfig struct {
	// Addr is the edge's listen address.
	Addr string
	// AllowedHosts are more Host names the local endpoints answer (Config.AllowedHosts).
	AllowedHosts []string
	Topology     *topology.Topology
	// DataDir holds the identity provider's keys and issuer, and the default database and
	// object store; the tasks share it.
	DataDir string
	// DatabaseURL names the database (store.URL has made it).
	DatabaseURL string
	// BlobURL names the object store; "" is a directory in DataDir.
	BlobURL string
	// MaxUpload is the uploads service's limit for a direct upload.
	MaxUpload      int64
	TrustedProxies edge.TrustedProxies
	// WAF runs the WAF with the topology's settings.
	WAF bool
	// Executable is the decagon binary each task runs (`decagon serve`): the running one when
	// empty. Watch points it at the binary it rebuilds in the data dir.
	Executable string
	// Watch is `decagon dev --watch`: rebuild the binary when the source tree in the working
	// directory changes and deploy it to every service (NewWatcher).
	Watch bool
	// TaskLimits and ScalingSpeedup are Config's.
	TaskLimits     bool
	ScalingSpeedup int
	// LogLevel is the tasks' --log-level: info when empty.
	LogLevel string
	// TaskOutput receives the tasks' logs (Config.TaskOutput).
	TaskOutput io.Writer
	// Drain is Config.Drain.
	Drain  time.Duration
	Logger *slog.Logger
	// AccessLog is Config.AccessLog.
	AccessLog io.Writer
	// Version is the build's, for the metrics' build info.
	Version string
}

// Local is a running `decagon dev`.
type Local struct {
	*Stack
	// Issuer is the issuer of the stack's tokens, kept in the data dir.
	Issuer string
	// Backend names the database's backend.
	Backend  string
	provider *idp.Provider
	closers  []func()
}

// Mint mints a token the stack accepts.
func (l *Local) Mint(o idp.MintOptions) (string, error) {
	o.Issuer = l.Issuer
	return l.provider.Mint(o)
}

// Wait is Stack.Wait, then closes what the stack opened.
func (l *Local) Wait() error {
	err := l.Stack.Wait()
	l.close()
	return err
}

func (l *Local) close() {
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
}

// StartLocal builds the local stack from c — identity provider and verifier, database schema,
// object store, metrics and dashboard, WAF, and a local ECS service of child-process tasks
// for every service — and starts it.
func StartLocal(ctx context.Context, c LocalConfig) (_ *Local, err error) {
	l := &Local{}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	if c.TaskOutput == nil {
		c.TaskOutput = io.Discard
	}
	var watcher *Watcher
	if c.Watch {
		if watcher, c.Executable, err = NewWatcher(c.DataDir, c.Logger, c.TaskOutput); err != nil {
			return nil, err
		}
	}
	if c.Executable == "" {
		if c.Executable, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("devstack: the binary the tasks run: %w", err)
		}
	}
	v, err := l.identity(c.DataDir, c.Logger)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	l.closers = append(l.closers, func() { ln.Close() })
	if !Loopback(ln.Addr().String()) && len(c.AllowedHosts) == 0 {
		c.Logger.Warn("the listen address is not loopback: /_dev/, /metrics and /_idp/ answer only loopback names until --allowed-hosts names this machine's")
	}
	publicURL := "http://" + ln.Addr().String()
	if l.Backend, err = prepareStorage(ctx, c, publicURL); err != nil {
		return nil, err
	}

	// /metrics: the edge's series from this process, the services' from their tasks, summed
	// over the tasks (taskmetrics.go). The dashboard at /_dev/ reads the edge's alone.
	obs := registry.NewObservability(true, c.Version)
	tm := newTaskMetrics(obs.Registry, c.Logger)
	mon, err := newMonitor(ctx, obs, c.Topology, c.Logger)
	if err != nil {
		return nil, err
	}
	task := taskCommand{exe: c.Executable, dataDir: c.DataDir, databaseURL: c.DatabaseURL, blobURL: c.BlobURL,
		issuer: l.Issuer, clientID: l.provider.ClientID(), publicURL: publicURL, maxUpload: c.MaxUpload,
		logLevel: c.LogLevel, metrics: tm}
	if svc, ok := c.Topology.Service("uploads"); ok {
		task.maxPresign = svc.Uploads.PresignCap()
	}
	cfg := Config{
		Listener: ln, Topology: c.Topology, Verifier: v, IDP: l.provider.Handler(),
		Command:    task.command,
		TaskLimits: c.TaskLimits, ScalingSpeedup: c.ScalingSpeedup, TaskOutput: c.TaskOutput,
		TrustedProxies: c.TrustedProxies,
		Mounts:         map[string]http.Handler{"/_dev/": mon.dashboard.Handler(), "/metrics": metrics.Handler(prometheus.Gatherers{obs.Registry, tm})},
		AllowedHosts:   c.AllowedHosts,
		Drain:          c.Drain,
		AccessLog:      c.AccessLog,
		Observe:        mon.observe,
		Logger:         c.Logger,
	}
	if c.WAF {
		cfg.WAF, err = NewWAF(WAFConfig{WAF: c.Topology.WAF, TrustedProxies: c.TrustedProxies, Registry: obs.Registry, Events: mon.events, Logger: c.Logger})
		if err != nil {
			return nil, err
		}
	}
	if cfg.WAF, err = Front(c.Topology.Stage.Name, cfg.WAF); err != nil {
		return nil, err
	}
	if l.Stack, err = Start(ctx, cfg); err != nil {
		return nil, err
	}
	tm.stack.Store(l.Stack)
	mon.targets.Set(l.Stack)
	if watcher != nil {
		watcher.Deploy = l.Stack.DeployAll
		go func() {
			if err := watcher.Run(ctx); err != nil {
				c.Logger.Error("watch stopped", "err", err)
			}
		}()
	}
	return l, nil
}

// prepareStorage migrates the database and makes the object store (its directory and URL
// secret) once, before any task starts, so that the tasks find them ready instead of racing
// to create them. It returns the database's backend.
func prepareStorage(ctx context.Context, c LocalConfig, publicURL string) (string, error) {
	db, err := store.OpenMigrated(ctx, c.DatabaseURL)
	if err != nil {
		return "", err
	}
	backend := db.Backend()
	db.Close()
	bucket, err := blob.OpenConfig(ctx, blob.Config{URL: c.BlobURL, DataDir: c.DataDir, Logger: c.Logger,
		PublicURL: publicURL + registry.BlobPrefix})
	if err != nil {
		return "", err
	}
	bucket.Close()
	return backend, nil
}

// identity opens the identity provider in dataDir and returns the verifier of its tokens. The
// issuer is kept in the data dir, whatever the address, so tokens outlive a restart on another
// --addr; the verifier reads the keys from the provider itself, in the process.
func (l *Local) identity(dataDir string, logger *slog.Logger) (*auth.Verifier, error) {
	var err error
	if l.provider, err = idp.Open(dataDir, idp.Config{Logger: logger}); err != nil {
		return nil, err
	}
	if l.Issuer, err = l.provider.StableIssuer(); err != nil {
		return nil, err
	}
	keys, err := l.provider.HTTPClient(l.Issuer)
	if err != nil {
		return nil, err
	}
	return auth.NewVerifier(auth.Config{Issuer: l.Issuer, ClientIDs: []string{l.provider.ClientID()}, HTTPClient: keys, Logger: logger})
}

// monitor is what the dashboard and the metrics see of the stack.
type monitor struct {
	events    *dashboard.Events
	observe   func(*edge.Observation)
	targets   *Targets
	dashboard *dashboard.Dashboard
}

// newMonitor registers the edge's and the targets' series and starts the dashboard's sampling.
func newMonitor(ctx context.Context, obs *registry.Observability, topo *topology.Topology, logger *slog.Logger) (*monitor, error) {
	m := &monitor{events: &dashboard.Events{}, targets: &Targets{}}
	var err error
	if m.observe, err = EdgeMetrics(obs.Registry, topo, LocalRoutes, m.events); err != nil {
		return nil, err
	}
	obs.Registry.MustRegister(metrics.NewTargetCollector(m.targets.Metrics))
	routes, err := DashboardRoutes(topo)
	if err != nil {
		return nil, err
	}
	m.dashboard = dashboard.New(dashboard.Config{Gatherer: obs.Registry, Targets: m.targets.Dashboard, Services: m.targets.Services,
		Routes: routes, Events: m.events, Logger: logger})
	go m.dashboard.Run(ctx)
	return m, nil
}
