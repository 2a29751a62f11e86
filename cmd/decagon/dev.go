package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/registry"
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
	proxies, err := edge.ParseTrustedProxies(*trusted)
	if err != nil {
		return cli.Usagef("--trusted-proxies: %v", err)
	}
	logger, err := newLogger(stderr, *logLevel, unused)
	if err != nil {
		return err
	}
	topo, err := loadTopology(*config, logger)
	if err != nil {
		return err
	}
	dbURL, err := dbFlags.databaseURL(*dataDir)
	if err != nil {
		return err
	}
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-dev", Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	stack, err := devstack.StartLocal(ctx, devstack.LocalConfig{
		Addr: *addr, AllowedHosts: cli.List(*allowedHosts), Topology: topo, DataDir: *dataDir,
		DatabaseURL: dbURL, BlobURL: *blobURL, MaxUpload: *maxUpload, TrustedProxies: proxies, WAF: *wafOn,
		Drain: *drain, Logger: logger, AccessLog: stderr, Version: version,
	})
	if err != nil {
		return err
	}
	token, err := stack.Mint(idp.MintOptions{User: "dev", Type: "id", TTL: 12 * time.Hour})
	if err != nil {
		return err
	}
	base := stack.URL()
	fmt.Fprintf(stdout, banner, base, stack.Backend, *dataDir, token, base, base, base, base, base, *dataDir)
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
