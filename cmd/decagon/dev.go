package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", "Runs the local stack: the services and the identity provider on one address.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dataDir := fs.String("data-dir", ".decagon", "directory for local data: database, identity provider keys, issuer")
	dbRaw := fs.String("database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)")
	dbPassword := fs.String("database-password", "", "password added to a postgres --database-url that has none")
	blobURL := fs.String("blob-url", "", "s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	maxUpload := byteSize(uploads.DefaultMaxUpload)
	fs.Var(&maxUpload, "max-upload", "largest direct upload (bytes, or with KiB/MiB/GiB)")
	drain := fs.Duration("drain", 0, "on Ctrl-C, keep serving this long while /health-check answers 503")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
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
	dbURL, err := databaseURL(*dbRaw, *dbPassword, *dataDir)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	bucket, err := openBucket(ctx, blobConfig{url: *blobURL, publicURL: base, dataDir: *dataDir}, logger)
	if err != nil {
		return err
	}
	defer bucket.Close()
	svc, err := buildServices(knownServices, deps{db: db, bucket: bucket, verifier: v, logger: logger, maxUpload: int64(maxUpload)})
	if err != nil {
		return err
	}
	svc.background(ctx)

	idpHandler := web.RequestIDs(logger, web.AccessLog(provider.Handler()))
	// Not a ServeMux: it would clean and redirect paths the API must answer with 404.
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, idp.PathPrefix+"/") {
			idpHandler.ServeHTTP(w, r)
			return
		}
		svc.handler.ServeHTTP(w, r)
	})

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

More tokens: go run ./cmd/decagon token --data-dir %s --user alice [--groups admin]
`, base, db.Backend(), *dataDir, token, base, base, *dataDir)

	logger.Info("dev stack up", "url", base, "issuer", issuer)
	return web.Serve(ctx, web.NewServer(mux, logger), ln, *drain, svc.health.Drain, logger)
}
