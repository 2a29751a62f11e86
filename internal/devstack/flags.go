package devstack

import (
	"log/slog"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
)

// Flags registers the flags of `decagon dev` and returns the function that fills c from them
// after Parse: it checks them, loads the topology and names the database. c.LogLevel is
// --log-level, which the command reads first to make the logger it passes.
func (c *LocalConfig) Flags(fs *cli.FlagSet) (finish func(logger *slog.Logger) error) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address of the edge")
	allowedHosts := fs.String("allowed-hosts", "", "more Host names (or name:port) that /_dev/, /metrics and /_idp/ answer, comma-separated; needed only when --addr is not loopback")
	config := fs.String("config", DefaultTopologyFile, "the topology file: services, path rules, health checks, stage, WAF")
	fs.StringVar(&c.DataDir, "data-dir", ".decagon", "directory for local data: database, identity provider keys, issuer")
	var db registry.Database
	db.Flags(fs, false)
	fs.StringVar(&c.BlobURL, "blob-url", "", "s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	maxUpload := fs.Size("max-upload", registry.DefaultMaxUpload, "largest direct upload")
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host the edge keeps, comma-separated")
	fs.BoolVar(&c.WAF, "waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	fs.DurationVar(&c.Drain, "drain", 0, "on Ctrl-C, keep serving this long before the tasks are stopped")
	fs.BoolVar(&c.TaskLimits, "task-limits", false, "run each task in a cgroup of its decagon.yaml cpu and memory (where cgroups are writable; the stack says at start when they are not)")
	fs.IntVar(&c.ScalingSpeedup, "scaling-speedup", 1, "divide every scaling alarm period and cooldown by this: at 60, decagon.yaml's 5-minute period lasts 5 s")
	fs.BoolVar(&c.Watch, "watch", false, "rebuild the binary into --data-dir when a .go file, decagon.yaml or api/openapi.yaml changes, and deploy it to every service (rolling, no request dropped); run inside the source tree")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	return func(logger *slog.Logger) (err error) {
		if c.ScalingSpeedup < 1 {
			return cli.Usagef("--scaling-speedup must be at least 1, got %d", c.ScalingSpeedup)
		}
		if c.TrustedProxies, err = edge.ParseTrustedProxies(*trusted); err != nil {
			return cli.Usagef("--trusted-proxies: %v", err)
		}
		c.Logger, c.AllowedHosts, c.MaxUpload = logger, cli.List(*allowedHosts), *maxUpload
		if c.Topology, err = LoadTopology(*config, logger); err != nil {
			return err
		}
		// dev runs no AWS task: it has no --database-secret-arn, so the URL says it all.
		c.DatabaseURL, err = store.URL(db.URL, db.Password, c.DataDir)
		return err
	}
}

// Flags registers the flags of `decagon edge` (but --log-level, which the command reads to make
// the logger) and returns the function that fills c from them after Parse: it checks them,
// loads the topology and builds the verifier.
func (c *EdgeConfig) Flags(fs *cli.FlagSet) (finish func(logger *slog.Logger) error) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	config := fs.String("config", DefaultTopologyFile, "the topology file: stage, throttling, services, path rules, health checks, WAF")
	c.Targets = fs.Targets("target", "targets of a service: SERVICE=HOST:PORT[,HOST:PORT...]; repeat per service or separate with ';'")
	var a registry.Auth
	a.Flags(fs)
	trusted := fs.String("trusted-proxies", "", "CIDRs whose X-Forwarded-For/-Proto/-Host are kept, comma-separated")
	fs.BoolVar(&c.WAF, "waf", true, "run the WAF (Coraza + OWASP CRS) with decagon.yaml's settings")
	stageRate := fs.Float64("stage-rate-limit", 0, "replaces decagon.yaml's stage.throttling.rateLimit (requests/s) for load tests; 0 keeps it")
	stageBurst := fs.Int("stage-burst-limit", 0, "replaces decagon.yaml's stage.throttling.burstLimit for load tests; 0 keeps it")
	fs.BoolVar(&c.AWSHealthChecks, "aws-health-checks", false, "use the health checks' AWS timing instead of their local timing")
	accessLog := fs.String("access-log", "-", "where access log lines go: '-' for stdout, '' for nowhere, or a file path")
	fs.DurationVar(&c.Drain, "drain", 0, "on SIGTERM, keep serving this long before shutting down")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "serve Prometheus /metrics on this address (never routed by the edge), e.g. 127.0.0.1:9090; '' serves none")
	return func(logger *slog.Logger) (err error) {
		ac, err := a.Config(fs.Name(), logger)
		if err != nil {
			return err
		}
		c.Logger = logger
		if c.Topology, err = LoadTopology(*config, logger); err != nil {
			return err
		}
		// decagon.yaml holds API Gateway's account limits (10,000 requests/s at most); a load
		// test of the edge alone may go past them and still want throttling on every request.
		if err := c.Topology.OverrideStageThrottling(*stageRate, *stageBurst); err != nil {
			return cli.Usagef("--stage-rate-limit / --stage-burst-limit: %v", err)
		}
		if c.TrustedProxies, err = edge.ParseTrustedProxies(*trusted); err != nil {
			return cli.Usagef("--trusted-proxies: %v", err)
		}
		if c.Verifier, err = auth.NewVerifier(ac); err != nil {
			return err
		}
		switch *accessLog {
		case "":
		case "-":
			c.AccessLog = fs.Stdout()
		default:
			c.AccessLogFile = *accessLog
		}
		return nil
	}
}
