package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/health"
	"github.com/decagon/decagon/internal/records/recordsapi"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry/instrument"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
	"github.com/decagon/decagon/internal/web"
)

// knownServices are the services `decagon serve` runs, by the names decagon.yaml gives them.
var knownServices = []string{"tests", "uploads"}

// databaseURL returns the URL to open: the flag, or a SQLite file in the data dir. A password
// given apart (DECAGON_DATABASE_PASSWORD, from Secrets Manager in ECS) is put into a postgres URL
// that has none, so it never has to appear in the task definition.
func databaseURL(raw, password, dataDir string) (string, error) {
	if raw == "" {
		return "sqlite:" + filepath.Join(dataDir, "decagon.db"), nil
	}
	if password == "" || !(strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://")) {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--database-url: %w", err)
	}
	if u.User == nil {
		return "", fmt.Errorf("--database-url: a password is given but the URL names no user")
	}
	if _, has := u.User.Password(); !has {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	return u.String(), nil
}

// databaseFlags are the flags of every command that opens the database.
type databaseFlags struct {
	url, password *string
}

func addDatabaseFlags(fs *flag.FlagSet) databaseFlags {
	return databaseFlags{
		url:      fs.String("database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)"),
		password: fs.String("database-password", "", "password added to a postgres --database-url that has none (ECS passes it from Secrets Manager)"),
	}
}

// open opens the database the flags name (a SQLite file in dataDir by default) and applies the
// embedded schema.
func (f databaseFlags) open(ctx context.Context, dataDir string) (*store.DB, error) {
	dbURL, err := databaseURL(*f.url, *f.password, dataDir)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, dbURL)
}

// openStore opens the database and applies the embedded schema.
func openStore(ctx context.Context, dbURL string) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// blobConfig is how the uploads service reaches its object store.
type blobConfig struct {
	url       string // --blob-url; "" means a directory in the data dir
	secret    string // --blob-url-secret (hex); "" means one kept in the data dir
	publicURL string // where clients reach the service, for the file store's signed URLs
	dataDir   string
}

// openBucket opens the object store. For the directory store, signed URLs need a secret shared
// by every replica: given as a flag, or generated once into the data dir.
func openBucket(ctx context.Context, c blobConfig, logger *slog.Logger) (*blob.Bucket, error) {
	raw := c.url
	if raw == "" {
		dir, err := filepath.Abs(filepath.Join(c.dataDir, "blobs"))
		if err != nil {
			return nil, err
		}
		raw = (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	}
	opts := blob.Options{Logger: logger}
	if strings.HasPrefix(raw, "file:") {
		secret, err := urlSecret(c.secret, c.dataDir)
		if err != nil {
			return nil, err
		}
		if c.publicURL == "" {
			return nil, errors.New("the directory store needs --public-url: the base URL clients use to reach the API")
		}
		opts.URLSecret = secret
		opts.PublicURL = strings.TrimRight(c.publicURL, "/") + uploadsapi.BlobPrefix
	}
	return blob.Open(ctx, raw, opts)
}

// urlSecret returns the flag's secret, or the one in dataDir, made on first use.
func urlSecret(flagValue, dataDir string) ([]byte, error) {
	if flagValue != "" {
		b, err := hex.DecodeString(flagValue)
		if err != nil || len(b) < 32 {
			return nil, errors.New("--blob-url-secret must be at least 32 bytes in hex")
		}
		return b, nil
	}
	path := filepath.Join(dataDir, "blob-url-secret")
	if b, err := os.ReadFile(path); err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it first: use theirs.
		return urlSecret("", dataDir)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(secret)); err != nil {
		return nil, err
	}
	return secret, f.Sync()
}

// deps are what the services are built from.
type deps struct {
	db        *store.DB
	bucket    *blob.Bucket // nil unless uploads runs
	verifier  *auth.Verifier
	logger    *slog.Logger
	maxUpload int64
	obs       *observability // nil: nothing measured
}

// built is one running service (or several sharing one handler, as `decagon dev` has them).
type built struct {
	handler http.Handler
	health  *health.Checker
	// background runs the service's housekeeping until ctx is done.
	background func(ctx context.Context)
}

// buildServices assembles the named services behind one handler and one health check.
func buildServices(names []string, d deps) (*built, error) {
	if d.obs == nil {
		d.obs = &observability{}
	}
	checks := map[string]health.Check{"database": d.db.Ping}
	var routes []map[string]http.Handler
	var loops []func(context.Context)
	for _, name := range names {
		switch name {
		case "tests":
			th := &recordsapi.Handler{Store: instrument.Tests(d.db.Tests(), d.db.Backend(), d.obs.dbObservers()...)}
			routes = append(routes, th.Routes())
			loops = append(loops, func(ctx context.Context) { th.PurgeLoop(ctx, time.Hour, d.logger) })
		case "uploads":
			if d.bucket == nil {
				return nil, errors.New("uploads needs an object store")
			}
			checks["blob"] = d.bucket.Ping
			uh := &uploadsapi.Handler{Store: instrument.Uploads(d.db.Uploads(), d.db.Backend(), d.obs.dbObservers()...),
				Blobs: instrument.Bucket(d.bucket, d.obs.blobObservers()...), MaxUpload: d.maxUpload}
			routes = append(routes, uh.Routes())
		default:
			return nil, usageError{fmt.Sprintf("unknown service %q (known: %s)", name, strings.Join(knownServices, ", "))}
		}
	}
	checker := health.New(checks, time.Second, 2*time.Second, d.logger)
	m := &auth.Middleware{Verifier: d.verifier, WriteError: web.WriteError, Logger: d.logger}
	h, rt, err := service.New(service.Config{
		Logger:       d.logger,
		Authenticate: func(req auth.Requirement, next http.Handler) http.Handler { return m.Require(req)(next) },
		Health:       checker,
	}, routes...)
	if err != nil {
		return nil, err
	}
	h = d.obs.service(strings.Join(names, ","), rt.Patterns(), h)
	return &built{handler: h, health: checker, background: func(ctx context.Context) {
		for _, l := range loops {
			go l(ctx)
		}
	}}, nil
}
