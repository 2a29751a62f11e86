package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/telemetry"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("serve", "[flags] "+strings.Join(registry.Names, "|"), "Runs one service as its Fargate task does.", stdout, stderr)
	addr := fs.String("addr", ":8080", "listen address (the container port)")
	dbFlags := addDatabaseFlags(fs).withSecret(fs)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data (the default SQLite file and object store)")
	issuer := fs.String("auth-issuer", "", "token issuer, e.g. https://cognito-idp.REGION.amazonaws.com/POOL_ID (required)")
	clientIDs := fs.String("auth-client-id", "", "accepted app client IDs, comma-separated (required)")
	localIDP := fs.Bool("auth-local-idp", false, "read the issuer's keys from the local identity provider in --data-dir instead of fetching its JWKS: how the tasks of `decagon dev` verify its tokens")
	blobURL := fs.String("blob-url", "", "uploads: s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	blobSecret := fs.String("blob-url-secret", "", "uploads, directory store: hex key (≥ 32 bytes) signing its URLs, the same on every task (default: kept in --data-dir)")
	publicURL := fs.String("public-url", "", "uploads, directory store: the base URL clients reach the API at, for signed URLs (default: http:// and --addr, 127.0.0.1 for an unspecified host)")
	maxUpload := fs.Size("max-upload", registry.DefaultMaxUpload, "uploads: largest direct upload")
	maxPresigned := fs.Size("max-presigned-size", registry.DefaultMaxPresignedSize, "uploads: largest file a presigned PUT may announce (at most 5GiB, S3's single PUT)")
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
	if *issuer == "" || *clientIDs == "" {
		return cli.Usagef("serve needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)")
	}
	name := fs.Arg(0)
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
	ac := auth.Config{Issuer: *issuer, ClientIDs: cli.List(*clientIDs), Logger: logger}
	if *localIDP {
		// decagon dev's issuer is an identifier, not an address (idp.LocalIssuer): its keys are
		// the files in the data dir the stack shares with its tasks.
		p, err := idp.Open(*dataDir, idp.Config{Logger: logger})
		if err != nil {
			return err
		}
		if ac.HTTPClient, err = p.HTTPClient(*issuer); err != nil {
			return err
		}
	}
	v, err := auth.NewVerifier(ac)
	if err != nil {
		return err
	}
	dbURL, err := dbFlags.databaseURL(*dataDir)
	if err != nil {
		return err
	}
	dbPassword, err := dbFlags.passwordSource(ctx)
	if err != nil {
		return err
	}
	if *publicURL == "" {
		*publicURL = registry.LocalURL(*addr)
	}
	cfg := registry.ServeConfig{Name: name, Addr: *addr, DatabaseURL: dbURL, DatabasePassword: dbPassword, Verifier: v,
		MaxUpload: *maxUpload, MaxPresignedSize: *maxPresigned,
		Blob:  blob.Config{URL: *blobURL, Secret: *blobSecret, PublicURL: *publicURL, DataDir: *dataDir, Logger: logger},
		Drain: *drain, AdminAddr: *adminAddr, Logger: logger, Version: version}
	if *emf {
		cfg.EMF = stdout
	}
	return registry.Serve(ctx, cfg)
}
