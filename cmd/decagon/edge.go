package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/waf"
	"github.com/decagon/decagon/internal/web"
)

// targetsFlag collects --target values: "tests=127.0.0.1:9001,127.0.0.1:9002", repeated per
// service or joined with ';' (as one environment variable holds them).
type targetsFlag map[string][]string

func (t targetsFlag) String() string {
	var parts []string
	for svc, addrs := range t {
		parts = append(parts, svc+"="+strings.Join(addrs, ","))
	}
	return strings.Join(parts, ";")
}

func (t targetsFlag) Set(v string) error {
	for group := range strings.SplitSeq(v, ";") {
		if strings.TrimSpace(group) == "" {
			continue
		}
		svc, list, ok := strings.Cut(group, "=")
		svc = strings.TrimSpace(svc)
		if !ok || svc == "" {
			return fmt.Errorf("want SERVICE=HOST:PORT[,HOST:PORT...], got %q", group)
		}
		for _, addr := range splitList(list) {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return fmt.Errorf("target %q of %s: %w", addr, svc, err)
			}
			t[svc] = append(t[svc], addr)
		}
	}
	return nil
}

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("edge", "Runs the edge alone (stage, authorizer, throttling, load balancer, WAF) in front of targets given per service.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	config := fs.String("config", defaultConfig, "the topology file: stage, throttling, services, path rules, health checks, WAF")
	targets := targetsFlag{}
	fs.Var(targets, "target", "targets of a service: SERVICE=HOST:PORT[,HOST:PORT...]; repeat per service or separate with ';'")
	issuer := fs.String("auth-issuer", "", "token issuer, e.g. https://cognito-idp.REGION.amazonaws.com/POOL_ID (required)")
	clientIDs := fs.String("auth-client-id", "", "accepted app client IDs, comma-separated (required)")
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host are kept, comma-separated")
	wafOn := fs.Bool("waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	stageRate := fs.Float64("stage-rate-limit", 0, "replaces decagon.yaml's stage.throttling.rateLimit (requests/s) for load tests; 0 keeps it")
	stageBurst := fs.Int("stage-burst-limit", 0, "replaces decagon.yaml's stage.throttling.burstLimit for load tests; 0 keeps it")
	awsChecks := fs.Bool("aws-health-checks", false, "use the health checks' AWS timing instead of their local timing")
	accessLog := fs.String("access-log", "-", "where access log lines go: '-' for stdout, '' for nowhere, or a file path")
	drain := fs.Duration("drain", 0, "on SIGTERM, keep serving this long before shutting down")
	adminAddr := fs.String("admin-addr", "", "serve Prometheus /metrics on this address (never routed by the edge), e.g. 127.0.0.1:9090; '' serves none")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("edge takes no arguments, got %q", fs.Args())}
	}
	if *issuer == "" || *clientIDs == "" {
		return usageError{"edge needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)"}
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	// The edge allocates per request and keeps little: a higher GC target trades a little
	// memory for throughput. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	topo, err := loadTopology(*config, logger)
	if err != nil {
		return err
	}
	// decagon.yaml holds API Gateway's account limits (10,000 requests/s at most); a load test
	// of the edge alone may go past them and still want throttling on every request.
	if *stageRate < 0 || *stageBurst < 0 {
		return usageError{"--stage-rate-limit and --stage-burst-limit must not be negative"}
	}
	if *stageRate > 0 {
		topo.Stage.Throttling.RateLimit = *stageRate
	}
	if *stageBurst > 0 {
		topo.Stage.Throttling.BurstLimit = *stageBurst
	}
	proxies, err := edge.ParseTrustedProxies(*trusted)
	if err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: *issuer, ClientIDs: splitList(*clientIDs), Logger: logger})
	if err != nil {
		return err
	}
	var logOut io.Writer
	switch *accessLog {
	case "":
	case "-":
		logOut = stdout
	default:
		f, err := os.OpenFile(*accessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	cfg := edge.Config{
		Topology:        topo,
		Verifier:        v,
		Targets:         targets,
		TrustedProxies:  proxies,
		AWSHealthChecks: *awsChecks,
		AccessLog:       logOut,
		Logger:          logger,
	}
	stopTelemetry, err := setupTelemetry(ctx, "decagon-edge")
	if err != nil {
		return err
	}
	defer stopTelemetry()
	obs := newObservability(*adminAddr != "")
	if obs.reg != nil {
		if cfg.Observe, err = edgeMetrics(obs.reg, topo, nil, nil); err != nil {
			return err
		}
	}
	if *wafOn {
		if cfg.WAF, err = newWAF(topo.WAF, proxies, obs.reg, nil, logger); err != nil {
			return err
		}
	}
	if cfg.WAF, err = edgeFront(topo.Stage.Name, cfg.WAF); err != nil {
		return err
	}
	e, err := edge.New(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for _, name := range e.GroupNames() {
		if len(targets[name]) == 0 {
			logger.Warn("service has no targets: its routes answer 503", "service", name)
		}
	}
	if obs.reg != nil {
		obs.reg.MustRegister(metrics.NewTargetCollector(edgeTargets(e)))
	}
	if err := serveAdmin(ctx, *adminAddr, obs.reg, logger); err != nil {
		ln.Close()
		return err
	}
	logger.Info("edge serving", "addr", ln.Addr().String(), "stage", topo.Stage.Name, "issuer", *issuer, "waf", *wafOn, "version", version)
	return web.Serve(ctx, edge.NewServer(e, logger), ln, *drain, nil, logger)
}

// wafConfig is decagon.yaml's waf section, as topology validated it, with the edge's notion of
// the client address (trusted proxies) as the key of its IP sets and rate-based rule.
func wafConfig(w topology.WAF, proxies edge.TrustedProxies) waf.Config {
	return waf.Config{WAF: w, ClientIP: proxies.ClientIP}
}
