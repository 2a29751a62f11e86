package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Runs one service as its Fargate task does: decagon serve tests|uploads.", stderr)
	addr := fs.String("addr", ":8080", "listen address (the container port)")
	dbFlags := addDatabaseFlags(fs)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data (the default SQLite file and object store)")
	issuer := fs.String("auth-issuer", "", "token issuer, e.g. https://cognito-idp.REGION.amazonaws.com/POOL_ID (required)")
	clientIDs := fs.String("auth-client-id", "", "accepted app client IDs, comma-separated (required)")
	blobURL := fs.String("blob-url", "", "uploads: s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	blobSecret := fs.String("blob-url-secret", "", "uploads, directory store: hex key (≥ 32 bytes) signing its URLs, the same on every replica (default: kept in --data-dir)")
	publicURL := fs.String("public-url", "", "uploads, directory store: the base URL clients reach the API at, for signed URLs")
	maxUpload := byteSize(uploads.DefaultMaxUpload)
	fs.Var(&maxUpload, "max-upload", "uploads: largest direct upload (bytes, or with KiB/MiB/GiB)")
	drain := fs.Duration("drain", 10*time.Second, "after SIGTERM, keep serving this long while /health-check answers 503")
	adminAddr := fs.String("admin-addr", "", "serve Prometheus /metrics on this address (not the container port the load balancer routes), e.g. :9090; '' serves none")
	emf := fs.Bool("cloudwatch-emf", false, "write error counts by kind to stdout every minute as CloudWatch Embedded Metric Format lines")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(knownServices, fs.Arg(0)) {
		return usageError{fmt.Sprintf("serve wants one service name: %s", strings.Join(knownServices, " or "))}
	}
	name := fs.Arg(0)
	if *issuer == "" || *clientIDs == "" {
		return usageError{"serve needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)"}
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	logger = logger.With("service", name)
	stopTelemetry, err := setupTelemetry(ctx, "decagon-"+name)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	obs := newObservability(*adminAddr != "")
	if *emf {
		obs.emf = metrics.NewEMF(stdout, name)
		emfCtx, stopEMF := context.WithCancel(ctx)
		flushed := make(chan struct{})
		go func() { obs.emf.Run(emfCtx, 0); close(flushed) }()
		defer func() { stopEMF(); <-flushed }() // the last counts, after the drain
	}

	v, err := auth.NewVerifier(auth.Config{Issuer: *issuer, ClientIDs: splitList(*clientIDs), Logger: logger})
	if err != nil {
		return err
	}
	db, err := dbFlags.open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	obs.watchPools(db)
	d := deps{db: db, verifier: v, logger: logger, maxUpload: int64(maxUpload), obs: obs}
	if name == "uploads" {
		var bucket *blob.Bucket
		bucket, err = openBucket(ctx, blobConfig{url: *blobURL, secret: *blobSecret, publicURL: *publicURL, dataDir: *dataDir}, logger)
		if err != nil {
			return err
		}
		defer bucket.Close()
		d.bucket = bucket
	}
	svc, err := buildServices([]string{name}, d)
	if err != nil {
		return err
	}
	svc.background(ctx)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := serveAdmin(ctx, *adminAddr, obs.reg, logger); err != nil {
		ln.Close()
		return err
	}
	logger.Info("serving", "addr", ln.Addr().String(), "database", db.Backend(), "version", version)
	return web.Serve(ctx, web.NewServer(svc.handler, logger), ln, *drain, svc.health.Drain, logger)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
