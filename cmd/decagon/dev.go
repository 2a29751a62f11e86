package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("dev", "[flags]", "Runs the local stack: the edge (WAF, stage, authorizer, load balancer), the identity provider, and desiredCount replicas of every service of decagon.yaml.", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the edge")
	allowedHosts := fs.String("allowed-hosts", "", "more Host names (or name:port) that /_dev/, /metrics and /_idp/ answer, comma-separated; needed only when --addr is not loopback")
	config := fs.String("config", defaultConfig, "the topology file: services, path rules, health checks, stage, WAF")
	dataDir := fs.String("data-dir", ".decagon", "directory for local data: database, identity provider keys, issuer")
	dbFlags := addDatabaseFlags(fs)
	blobURL := fs.String("blob-url", "", "s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	maxUpload := fs.Size("max-upload", registry.DefaultMaxUpload, "largest direct upload")
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host the edge keeps, comma-separated")
	wafOn := fs.Bool("waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	drain := fs.Duration("drain", 0, "on Ctrl-C, keep serving this long while the replicas' /health-check answers 503")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("dev takes no arguments, got %q", fs.Args())
	}
	logger, err := newLogger(stderr, *logLevel, unused)
	if err != nil {
		return err
	}
	topo, err := loadTopology(*config, logger)
	if err != nil {
		return err
	}
	proxies, err := edge.ParseTrustedProxies(*trusted)
	if err != nil {
		return cli.UsageError{Msg: "--trusted-proxies: " + err.Error()}
	}
	provider, err := idp.Open(*dataDir, idp.Config{})
	if err != nil {
		return err
	}
	// The issuer is kept in the data dir, whatever the address: tokens outlive a restart on
	// another --addr. The verifier reads the keys from the provider itself.
	issuer, err := provider.StableIssuer()
	if err != nil {
		return err
	}
	keys, err := provider.HTTPClient(issuer)
	if err != nil {
		return err
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer, ClientIDs: []string{provider.ClientID()}, HTTPClient: keys, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if !devstack.Loopback(ln.Addr().String()) && *allowedHosts == "" {
		logger.Warn("--addr is not loopback: /_dev/, /metrics and /_idp/ answer only loopback names until --allowed-hosts names this machine's")
	}
	base := "http://" + ln.Addr().String()
	dbURL, err := dbFlags.databaseURL(*dataDir)
	if err != nil {
		return err
	}
	db, err := store.OpenMigrated(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	bucket, err := blob.OpenConfig(ctx, blob.Config{URL: *blobURL, PublicURL: base + registry.BlobPrefix, DataDir: *dataDir, Logger: logger})
	if err != nil {
		return err
	}
	defer bucket.Close()
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-dev", Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()

	// One registry for the edge and every replica: /metrics and the dashboard at /_dev/.
	obs := registry.NewObservability(true, version)
	obs.WatchPools(db)
	events := &dashboard.Events{}
	observe, err := devstack.EdgeMetrics(obs.Registry, topo, devstack.LocalRoutes, events)
	if err != nil {
		return err
	}
	targets := &devstack.Targets{}
	obs.Registry.MustRegister(metrics.NewTargetCollector(targets.Metrics))
	routes, err := devstack.DashboardRoutes(topo)
	if err != nil {
		return err
	}
	dash := dashboard.New(dashboard.Config{Gatherer: obs.Registry, Targets: targets.Dashboard, Routes: routes, Events: events, Logger: logger})
	go dash.Run(ctx)
	deps := registry.Deps{DB: db, Bucket: bucket, Verifier: v, Logger: logger, MaxUpload: *maxUpload, Observe: obs}
	cfg := devstack.Config{
		Listener: ln, Topology: topo, Verifier: v, IDP: provider.Handler(),
		// Each replica is a fresh service over the shared database and object store.
		NewService: func(ctx context.Context, service string) (http.Handler, func(), error) {
			b, err := registry.Build([]string{service}, deps)
			if err != nil {
				return nil, nil, err
			}
			b.Background(ctx)
			return b.Handler, b.Health.Drain, nil
		},
		TrustedProxies: proxies,
		Mounts:         map[string]http.Handler{"/_dev/": dash.Handler(), "/metrics": metrics.Handler(obs.Registry)},
		AllowedHosts:   cli.List(*allowedHosts),
		Drain:          *drain,
		AccessLog:      stderr,
		Observe:        observe,
		Logger:         logger,
	}
	if *wafOn {
		cfg.WAF, err = devstack.NewWAF(devstack.WAFConfig{WAF: topo.WAF, TrustedProxies: proxies, Registry: obs.Registry, Events: events, Logger: logger})
		if err != nil {
			return err
		}
	}
	if cfg.WAF, err = devstack.Front(topo.Stage.Name, cfg.WAF); err != nil {
		return err
	}
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	targets.Set(stack)
	token, err := provider.Mint(idp.MintOptions{Issuer: issuer, User: "dev", Type: "id", TTL: 12 * time.Hour})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, banner, base, db.Backend(), *dataDir, token, base, base, base, base, base, *dataDir)
	return stack.Wait()
}

// banner is what `decagon dev` prints once the stack is up: at idle, the terminal shows it and
// nothing else.
const banner = `decagon dev is running at %s (database: %s, data: %s)

A token for user "dev", valid 12 hours:

  export TOKEN=%s

Try:

  curl -s -X POST %s/test -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"first"}'
  curl -s %s/test -H "Authorization: Bearer $TOKEN"
  curl -s %s/_dev/targets
  open %s/_dev/          (the live dashboard; %s/metrics for Prometheus)

More tokens: decagon token --data-dir %s --user alice [--groups admin]
`
