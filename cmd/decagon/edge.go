package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/telemetry"
)

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("edge", "[flags]", "Runs the edge alone (stage, authorizer, throttling, load balancer, WAF) in front of targets given per service.", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	config := fs.String("config", defaultConfig, "the topology file: stage, throttling, services, path rules, health checks, WAF")
	targets := fs.Targets("target", "targets of a service: SERVICE=HOST:PORT[,HOST:PORT...]; repeat per service or separate with ';'")
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
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("edge takes no arguments, got %q", fs.Args())
	}
	if *issuer == "" || *clientIDs == "" {
		return cli.Usagef("edge needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)")
	}
	logger, err := newLogger(stderr, *logLevel, unused)
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
	if err := topo.OverrideStageThrottling(*stageRate, *stageBurst); err != nil {
		return cli.Usagef("--stage-rate-limit / --stage-burst-limit: %v", err)
	}
	proxies, err := edge.ParseTrustedProxies(*trusted)
	if err != nil {
		return cli.Usagef("--trusted-proxies: %v", err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: *issuer, ClientIDs: cli.List(*clientIDs), Logger: logger})
	if err != nil {
		return err
	}
	cfg := devstack.EdgeConfig{Addr: *addr, Topology: topo, Targets: targets, Verifier: v, TrustedProxies: proxies,
		WAF: *wafOn, AWSHealthChecks: *awsChecks, AdminAddr: *adminAddr, Drain: *drain, Logger: logger, Version: version}
	switch *accessLog {
	case "":
	case "-":
		cfg.AccessLog = stdout
	default:
		f, err := os.OpenFile(*accessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		defer f.Close()
		cfg.AccessLog = f
	}
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-edge", Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	return devstack.ServeEdge(ctx, cfg)
}
