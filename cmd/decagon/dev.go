package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/uploads"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", "Runs the local stack: the edge (WAF, stage, authorizer, load balancer), the identity provider, and desiredCount replicas of every service of decagon.yaml.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the edge")
	config := fs.String("config", defaultConfig, "the topology file: services, path rules, health checks, stage, WAF")
	dataDir := fs.String("data-dir", ".decagon", "directory for local data: database, identity provider keys, issuer")
	dbFlags := addDatabaseFlags(fs)
	blobURL := fs.String("blob-url", "", "s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	maxUpload := byteSize(uploads.DefaultMaxUpload)
	fs.Var(&maxUpload, "max-upload", "largest direct upload (bytes, or with KiB/MiB/GiB)")
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host the edge keeps, comma-separated")
	wafOn := fs.Bool("waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	drain := fs.Duration("drain", 0, "on Ctrl-C, keep serving this long while the replicas' /health-check answers 503")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	topo, err := loadTopology(*config, logger)
	if err != nil {
		return err
	}
	proxies, err := edge.ParseTrustedProxies(*trusted)
	if err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	provider, err := idp.Open(*dataDir, idp.Config{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	issuer := base + idp.PathPrefix
	if err := provider.SetIssuer(issuer); err != nil {
		return err
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer, ClientIDs: []string{provider.ClientID()}, Logger: logger})
	if err != nil {
		return err
	}
	db, err := dbFlags.open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	bucket, err := openBucket(ctx, blobConfig{url: *blobURL, publicURL: base, dataDir: *dataDir}, logger)
	if err != nil {
		return err
	}
	defer bucket.Close()
	stopTelemetry, err := setupTelemetry(ctx, "decagon-dev")
	if err != nil {
		return err
	}
	defer stopTelemetry()
	// One registry for the edge and every replica: /metrics and the dashboard at /_dev/.
	obs := newObservability(true)
	obs.watchPools(db)
	events := &dashboard.Events{}
	observe, err := edgeMetrics(obs.reg, topo, []string{"/_dev/", "/_dev/targets", idp.PathPrefix + "/", "/metrics"}, events)
	if err != nil {
		return err
	}
	targets := &stackTargets{}
	obs.reg.MustRegister(metrics.NewTargetCollector(targets.metrics))
	routes, err := dashboardRoutes(topo)
	if err != nil {
		return err
	}
	dash := dashboard.New(dashboard.Config{Gatherer: obs.reg, Targets: targets.dashboard, Routes: routes, Events: events, Logger: logger})
	go dash.Run(ctx)
	d := deps{db: db, bucket: bucket, verifier: v, logger: logger, maxUpload: int64(maxUpload), obs: obs}
	cfg := devstack.Config{
		Listener: ln, Topology: topo, Verifier: v, IDP: provider.Handler(),
		// Each replica is a fresh service over the shared database and object store.
		NewService: func(ctx context.Context, service string) (http.Handler, func(), error) {
			b, err := buildServices([]string{service}, d)
			if err != nil {
				return nil, nil, err
			}
			b.background(ctx)
			return b.handler, b.health.Drain, nil
		},
		TrustedProxies: proxies,
		Mounts:         map[string]http.Handler{"/_dev/": dash.Handler(), "/metrics": metrics.Handler(obs.reg)},
		Drain:          *drain,
		AccessLog:      stderr,
		Observe:        observe,
		Logger:         logger,
	}
	if *wafOn {
		if cfg.WAF, err = newWAF(topo.WAF, proxies, obs.reg, events, logger); err != nil {
			return err
		}
	}
	if cfg.WAF, err = edgeFront(topo.Stage.Name, cfg.WAF); err != nil {
		return err
	}
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	targets.stack.Store(stack)
	token, err := provider.Mint(idp.MintOptions{Issuer: issuer, User: "dev", Type: "id", TTL: 12 * time.Hour})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `decagon dev is running at %s (database: %s, data: %s)

A token for user "dev", valid 12 hours:

  export TOKEN=%s

Try:

  curl -s -X POST %s/test -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"first"}'
  curl -s %s/test -H "Authorization: Bearer $TOKEN"
  curl -s %s/_dev/targets
  open %s/_dev/          (the live dashboard; %s/metrics for Prometheus)

More tokens: go run ./cmd/decagon token --data-dir %s --user alice [--groups admin]
`, base, db.Backend(), *dataDir, token, base, base, base, base, base, *dataDir)
	return stack.Wait()
}
