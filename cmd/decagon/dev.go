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
	fs := cli.New("dev", "[flags]", "Runs the local stack: the edge (WAF, stage, authorizer, load balancer), the identity provider, and every service of decagon.yaml as a local ECS service whose tasks are `decagon serve` child processes: desired count kept, step scaling, rolling deployments.", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the edge")
	allowedHosts := fs.String("allowed-hosts", "", "more Host names (or name:port) that /_dev/, /metrics and /_idp/ answer, comma-separated; needed only when --addr is not loopback")
	config := fs.String("config", defaultConfig, "the topology file: services, path rules, health checks, stage, WAF")
	dataDir := fs.String("data-dir", ".decagon", "directory for local data: database, identity provider keys, issuer")
	dbFlags := addDatabaseFlags(fs)
	blobURL := fs.String("blob-url", "", "s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	maxUpload := fs.Size("max-upload", registry.DefaultMaxUpload, "largest direct upload")
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host the edge keeps, comma-separated")
	wafOn := fs.Bool("waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	drain := fs.Duration("drain", 0, "on Ctrl-C, keep serving this long before the tasks are stopped")
	taskLimits := fs.Bool("task-limits", false, "run each task in a cgroup of its decagon.yaml cpu and memory (where cgroups are writable; the stack says at start when they are not)")
	speedup := fs.Int("scaling-speedup", 1, "divide every scaling alarm period and cooldown by this: at 60, decagon.yaml's 5-minute period lasts 5 s")
	watch := fs.Bool("watch", false, "rebuild the binary into --data-dir when a .go file, decagon.yaml or api/openapi.yaml changes, and deploy it to every service (rolling, no request dropped); run inside the source tree")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("dev takes no arguments, got %q", fs.Args())
	}
	if *speedup < 1 {
		return cli.Usagef("--scaling-speedup must be at least 1, got %d", *speedup)
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
	var watcher *devstack.Watcher
	exe := "" // the running binary
	if *watch {
		if watcher, exe, err = devstack.NewWatcher(*dataDir, logger, stderr); err != nil {
			return err
		}
	}
	stack, err := devstack.StartLocal(ctx, devstack.LocalConfig{
		Addr: *addr, AllowedHosts: cli.List(*allowedHosts), Topology: topo, DataDir: *dataDir,
		DatabaseURL: dbURL, BlobURL: *blobURL, MaxUpload: *maxUpload, TrustedProxies: proxies, WAF: *wafOn,
		Executable: exe, TaskLimits: *taskLimits, ScalingSpeedup: *speedup, LogLevel: *logLevel, TaskOutput: stderr,
		Drain: *drain, Logger: logger, AccessLog: stderr, Version: version,
	})
	if err != nil {
		return err
	}
	if watcher != nil {
		watcher.Deploy = stack.DeployAll
		go func() {
			if err := watcher.Run(ctx); err != nil {
				logger.Error("watch stopped", "err", err)
			}
		}()
	}
	token, err := stack.Mint(idp.MintOptions{User: "dev", TTL: 12 * time.Hour}) // a signed-in user's access token
	if err != nil {
		return err
	}
	base := stack.URL()
	fmt.Fprintf(stdout, banner, base, stack.Backend, *dataDir, token, base, base, base, base, base, base, *dataDir)
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
  curl -s %s/_dev/services
  open %s/_dev/          (the live dashboard; %s/metrics for Prometheus)

More tokens: decagon token --data-dir %s --user alice [--groups admin]
`
