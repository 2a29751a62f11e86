package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/web"
)

// EdgeConfig is `decagon edge`: the edge alone in front of targets given per service.
type EdgeConfig struct {
	// Addr is the listen address.
	Addr     string
	Topology *topology.Topology
	// Targets are the addresses of each service's targets.
	Targets        map[string][]string
	Verifier       *auth.Verifier
	TrustedProxies edge.TrustedProxies
	// WAF runs the WAF with the topology's settings.
	WAF bool
	// AWSHealthChecks uses the health checks' AWS timing instead of their local timing.
	AWSHealthChecks bool
	// AccessLog receives the access log lines; none when nil.
	AccessLog io.Writer
	// AccessLogFile, when set, is a file the access log lines are appended to instead (created
	// with mode 0640), open while the edge serves.
	AccessLogFile string
	// AdminAddr, when set, serves /metrics there (never routed by the edge).
	AdminAddr string
	// Drain is how long the edge keeps serving once ctx is done.
	Drain  time.Duration
	Logger *slog.Logger
	// Version is the build's, for the metrics' build info.
	Version string
}

// ServeEdge runs the edge alone until ctx is done, then drains and stops.
func ServeEdge(ctx context.Context, c EdgeConfig) error {
	if c.AccessLogFile != "" {
		f, err := os.OpenFile(c.AccessLogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		defer f.Close()
		c.AccessLog = f
	}
	cfg := edge.Config{
		Topology:        c.Topology,
		Verifier:        c.Verifier,
		Targets:         c.Targets,
		TrustedProxies:  c.TrustedProxies,
		AWSHealthChecks: c.AWSHealthChecks,
		AccessLog:       c.AccessLog,
		Logger:          c.Logger,
	}
	var reg *prometheus.Registry
	var err error
	if c.AdminAddr != "" {
		reg = metrics.NewRegistry(c.Version)
		if cfg.Observe, err = EdgeMetrics(reg, c.Topology, nil, nil); err != nil {
			return err
		}
	}
	if c.WAF {
		cfg.WAF, err = NewWAF(WAFConfig{WAF: c.Topology.WAF, TrustedProxies: c.TrustedProxies, Registry: reg, Logger: c.Logger})
		if err != nil {
			return err
		}
	}
	if cfg.WAF, err = Front(c.Topology.Stage.Name, cfg.WAF); err != nil {
		return err
	}
	e, err := edge.New(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for _, name := range e.GroupNames() {
		if len(c.Targets[name]) == 0 {
			c.Logger.Warn("service has no targets: its routes answer 503", "service", name)
		}
	}
	if reg != nil {
		reg.MustRegister(metrics.NewTargetCollector(EdgeTargets(e)))
	}
	if err := metrics.ServeAdmin(ctx, c.AdminAddr, reg, c.Logger); err != nil {
		ln.Close()
		return err
	}
	c.Logger.Info("edge serving", "addr", ln.Addr().String(), "stage", c.Topology.Stage.Name, "issuer", c.Verifier.Issuer(), "waf", c.WAF, "version", c.Version)
	return web.Serve(ctx, edge.NewServer(e, c.Logger), ln, c.Drain, nil, c.Logger)
}
