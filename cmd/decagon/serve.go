package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("serve", "[flags] "+strings.Join(registry.Names, "|"), "Runs one service as its Fargate task does.", stdout, stderr)
	addr := fs.String("addr", ":8080", "listen address (the container port)")
	dbFlags := addDatabaseFlags(fs)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data (the default SQLite file and object store)")
	issuer := fs.String("auth-issuer", "", "token issuer, e.g. https://cognito-idp.REGION.amazonaws.com/POOL_ID (required)")
	clientIDs := fs.String("auth-client-id", "", "accepted app client IDs, comma-separated (required)")
	blobURL := fs.String("blob-url", "", "uploads: s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	blobSecret := fs.String("blob-url-secret", "", "uploads, directory store: hex key (≥ 32 bytes) signing its URLs, the same on every replica (default: kept in --data-dir)")
	publicURL := fs.String("public-url", "", "uploads, directory store: the base URL clients reach the API at, for signed URLs (default: http:// and --addr, 127.0.0.1 for an unspecified host)")
	maxUpload := fs.Size("max-upload", registry.DefaultMaxUpload, "uploads: largest direct upload")
	drain := fs.Duration("drain", 10*time.Second, "after SIGTERM, keep serving this long while /health-check answers 503")
	adminAddr := fs.String("admin-addr", "", "serve Prometheus /metrics on this address (not the container port the load balancer routes), e.g. :9090; '' serves none")
	emf := fs.Bool("cloudwatch-emf", false, "write error counts by kind to stdout every minute as CloudWatch Embedded Metric Format lines")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || !registry.Known(fs.Arg(0)) {
		return cli.Usagef("serve wants one service name: %s", strings.Join(registry.Names, " or "))
	}
	name := fs.Arg(0)
	if *issuer == "" || *clientIDs == "" {
		return cli.UsageError{Msg: "serve needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)"}
	}
	logger, err := newLogger(stderr, *logLevel, unused)
	if err != nil {
		return err
	}
	logger = logger.With("service", name)
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-" + name, Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	obs := registry.NewObservability(*adminAddr != "", version)
	if *emf {
		obs.EMF = metrics.NewEMF(stdout, name)
		emfCtx, stopEMF := context.WithCancel(ctx)
		flushed := make(chan struct{})
		go func() { obs.EMF.Run(emfCtx, 0); close(flushed) }()
		defer func() { stopEMF(); <-flushed }() // the last counts, after the drain
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: *issuer, ClientIDs: cli.List(*clientIDs), Logger: logger})
	if err != nil {
		return err
	}
	dbURL, err := dbFlags.databaseURL(*dataDir)
	if err != nil {
		return err
	}
	db, err := store.OpenMigrated(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	obs.WatchPools(db)
	d := registry.Deps{DB: db, Verifier: v, Logger: logger, MaxUpload: *maxUpload, Observe: obs}
	if name == "uploads" {
		base := *publicURL
		if base == "" {
			base = localURL(*addr)
		}
		if d.Bucket, err = blob.OpenConfig(ctx, blob.Config{URL: *blobURL, Secret: *blobSecret, DataDir: *dataDir,
			PublicURL: strings.TrimRight(base, "/") + registry.BlobPrefix, Logger: logger}); err != nil {
			return err
		}
		defer d.Bucket.Close()
	}
	svc, err := registry.Build([]string{name}, d)
	if err != nil {
		return err
	}
	svc.Background(ctx)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := metrics.ServeAdmin(ctx, *adminAddr, obs.Registry, logger); err != nil {
		ln.Close()
		return err
	}
	logger.Info("serving", "addr", ln.Addr().String(), "database", db.Backend(), "version", version)
	return web.Serve(ctx, web.NewServer(svc.Handler, logger), ln, *drain, svc.Health.Drain, logger)
}

// localURL is the base URL of a service listening on addr, as a client on the same machine
// reaches it: http://127.0.0.1:8080 for ":8080" or "0.0.0.0:8080".
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
