package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/web"
)

// ServeConfig is `decagon serve NAME`: one service as its Fargate task runs it.
type ServeConfig struct {
	// Name is one of Names.
	Name string
	// Addr is the listen address (the container port).
	Addr string
	// DatabaseURL names the database (store.URL has made it).
	DatabaseURL string
	// DatabasePassword, when set, gives each new PostgreSQL connection its password
	// (internal/dbsecret: RDS's managed password, which rotates while the task runs).
	DatabasePassword store.PasswordSource
	Verifier         *auth.Verifier
	// Blob is the uploads service's object store; its PublicURL is the API's base URL, to which
	// Serve adds BlobPrefix. Unused by the other services.
	Blob blob.Config
	// MaxUpload is the uploads service's limit for a direct upload.
	MaxUpload int64
	// MaxPresignedSize is the uploads service's cap on a presigned upload; 0 is the default.
	MaxPresignedSize int64
	// Drain is how long the service keeps serving, /health-check answering 503, once ctx is
	// done.
	Drain time.Duration
	// AdminAddr, when set, serves /metrics there (not the port the load balancer routes).
	AdminAddr string
	// EMF, when set, receives CloudWatch Embedded Metric Format lines every minute and at the end.
	EMF    io.Writer
	Logger *slog.Logger
	// Version is the build's, for the logs and the metrics' build info.
	Version string
}

// Serve runs the service until ctx is done, then drains and stops.
func Serve(ctx context.Context, c ServeConfig) error {
	if percent, limit := gcSettings(os.Getenv, os.ReadFile); percent > 0 || limit > 0 {
		if percent > 0 {
			debug.SetGCPercent(percent)
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
		c.Logger.Debug("garbage collector", "gogc", percent, "memory_limit_bytes", limit)
	}
	obs := NewObservability(c.AdminAddr != "", c.Version)
	if c.EMF != nil {
		obs.EMF = metrics.NewEMF(c.EMF, c.Name)
		emfCtx, stopEMF := context.WithCancel(ctx)
		flushed := make(chan struct{})
		go func() { obs.EMF.Run(emfCtx, 0); close(flushed) }()
		defer func() { stopEMF(); <-flushed }() // the last counts, after the drain
	}
	db, err := store.OpenMigrated(ctx, c.DatabaseURL, store.WithPassword(c.DatabasePassword))
	if err != nil {
		return err
	}
	defer db.Close()
	obs.WatchPools(db)
	d := Deps{DB: db, Verifier: c.Verifier, Logger: c.Logger, MaxUpload: c.MaxUpload, MaxPresignedSize: c.MaxPresignedSize, Observe: obs}
	if c.Name == "uploads" {
		c.Blob.PublicURL = strings.TrimRight(c.Blob.PublicURL, "/") + BlobPrefix
		if d.Bucket, err = blob.OpenConfig(ctx, c.Blob); err != nil {
			return err
		}
		defer d.Bucket.Close()
	}
	// One P only where every wait is on the network: PostgreSQL and no object store. A
	// blocking disk syscall (SQLite's fsync, a file bucket's writes) holds the only P until
	// sysmon hands it off, which took POST /test on SQLite to a p99 of 1.9-3.7x the minimal
	// handler's. A service with an S3 bucket waits on the network too, but its uploads were
	// not measured with one P, so it keeps Go's choice.
	if db.Backend() == store.Postgres && d.Bucket == nil {
		if procs := procsSettings(os.Getenv, os.ReadFile); procs > 0 {
			runtime.GOMAXPROCS(procs)
			c.Logger.Debug("GOMAXPROCS", "procs", procs)
		}
	}
	svc, err := Build([]string{c.Name}, d)
	if err != nil {
		return err
	}
	svc.Background(ctx)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := metrics.ServeAdmin(ctx, c.AdminAddr, obs.Registry, c.Logger); err != nil {
		ln.Close()
		return err
	}
	c.Logger.Info("serving", "addr", ln.Addr().String(), "database", db.Backend(), "version", c.Version)
	return web.Serve(ctx, web.NewServer(svc.Handler, c.Logger), ln, c.Drain, svc.Health.Drain, c.Logger)
}

// LocalURL is the base URL of a service listening on addr, as a client on the same machine
// reaches it: http://127.0.0.1:8080 for ":8080" or "0.0.0.0:8080". It is the uploads service's
// default public URL, so that `decagon serve uploads` starts with its defaults.
func LocalURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
