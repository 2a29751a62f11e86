package registry

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/dbsecret"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/store"
)

// Database holds the flags of every command that opens the database (serve, migrate, dev).
type Database struct {
	URL, Password string
	// SecretARN is --database-secret-arn, which only the commands that run in AWS have.
	SecretARN string
}

// Flags registers --database-url and --database-password, and --database-secret-arn when
// withSecret.
func (d *Database) Flags(fs *cli.FlagSet, withSecret bool) {
	fs.StringVar(&d.URL, "database-url", "", "postgres://USER@HOST:PORT/DB or sqlite:PATH (default: a SQLite file in --data-dir)")
	fs.StringVar(&d.Password, "database-password", "", "password added to a postgres --database-url that has none, read once at start (it does not follow a rotation: prefer --database-secret-arn)")
	if withSecret {
		fs.StringVar(&d.SecretARN, "database-secret-arn", "", "ARN of the Secrets Manager secret holding the postgres password as JSON {\"username\",\"password\"} (RDS's managed secret): read for new connections, cached 5 minutes and read again when the server refuses it, so a rotation needs no restart")
	}
}

// Resolve returns the database URL the flags name (a SQLite file in dataDir by default) and
// the source of its postgres password, nil when the URL (with --database-password) says it all.
func (d Database) Resolve(ctx context.Context, dataDir string) (string, store.PasswordSource, error) {
	url, err := store.URL(d.URL, d.Password, dataDir)
	if err != nil || d.SecretARN == "" {
		return url, nil, err
	}
	if d.Password != "" {
		return "", nil, cli.Usagef("give --database-password or --database-secret-arn, not both")
	}
	if !strings.HasPrefix(d.URL, "postgres://") && !strings.HasPrefix(d.URL, "postgresql://") {
		return "", nil, cli.Usagef("--database-secret-arn needs a postgres --database-url")
	}
	src, err := dbsecret.Source(ctx, d.SecretARN)
	return url, src, err
}

// Auth holds the flags naming the token issuer and app clients (serve, edge).
type Auth struct{ Issuer, ClientIDs string }

// Flags registers --auth-issuer and --auth-client-id.
func (a *Auth) Flags(fs *cli.FlagSet) {
	fs.StringVar(&a.Issuer, "auth-issuer", "", "token issuer, e.g. https://cognito-idp.REGION.amazonaws.com/POOL_ID (required)")
	fs.StringVar(&a.ClientIDs, "auth-client-id", "", "accepted app client IDs, comma-separated (required)")
}

// Config is the verifier's configuration, or a usage error naming cmd when a flag is missing.
func (a Auth) Config(cmd string, logger *slog.Logger) (auth.Config, error) {
	if a.Issuer == "" || a.ClientIDs == "" {
		return auth.Config{}, cli.Usagef("%s needs --auth-issuer and --auth-client-id (DECAGON_AUTH_ISSUER, DECAGON_AUTH_CLIENT_ID)", cmd)
	}
	return auth.Config{Issuer: a.Issuer, ClientIDs: cli.List(a.ClientIDs), Logger: logger}, nil
}

// Flags registers the flags of `decagon serve` (but --log-level, which the command reads to
// make the logger) and returns the function that fills c from them after Parse, once c.Name is
// set: it checks the required flags and builds the verifier, the database's URL and password
// and the object store's config.
func (c *ServeConfig) Flags(fs *cli.FlagSet) (finish func(ctx context.Context, logger *slog.Logger) error) {
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address (the container port)")
	var db Database
	db.Flags(fs, true)
	dataDir := fs.String("data-dir", ".decagon", "directory for local data (the default SQLite file and object store)")
	var a Auth
	a.Flags(fs)
	localIDP := fs.Bool("auth-local-idp", false, "read the issuer's keys from the local identity provider in --data-dir instead of fetching its JWKS: how the tasks of `decagon dev` verify its tokens")
	fs.StringVar(&c.Blob.URL, "blob-url", "", "uploads: s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///DIR (default: a directory in --data-dir)")
	fs.StringVar(&c.Blob.Secret, "blob-url-secret", "", "uploads, directory store: hex key (≥ 32 bytes) signing its URLs, the same on every task (default: kept in --data-dir)")
	fs.StringVar(&c.Blob.PublicURL, "public-url", "", "uploads, directory store: the base URL clients reach the API at, for signed URLs (default: http:// and --addr, 127.0.0.1 for an unspecified host)")
	maxUpload := fs.Size("max-upload", DefaultMaxUpload, "uploads: largest direct upload")
	maxPresigned := fs.Size("max-presigned-size", DefaultMaxPresignedSize, "uploads: largest file a presigned PUT may announce (at most 5GiB, S3's single PUT)")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "after SIGTERM, keep serving this long while /health-check answers 503")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "serve Prometheus /metrics on this address (not the container port the load balancer routes), e.g. :9090; '' serves none")
	emf := fs.Bool("cloudwatch-emf", false, "write error counts by kind to stdout every minute as CloudWatch Embedded Metric Format lines")
	return func(ctx context.Context, logger *slog.Logger) error {
		ac, err := a.Config(fs.Name(), logger)
		if err != nil {
			return err
		}
		if *localIDP {
			// decagon dev's issuer is an identifier, not an address (idp.LocalIssuer): its keys
			// are the files in the data dir the stack shares with its tasks.
			p, err := idp.Open(*dataDir, idp.Config{Logger: logger})
			if err != nil {
				return err
			}
			if ac.HTTPClient, err = p.HTTPClient(a.Issuer); err != nil {
				return err
			}
		}
		if c.Verifier, err = auth.NewVerifier(ac); err != nil {
			return err
		}
		if c.DatabaseURL, c.DatabasePassword, err = db.Resolve(ctx, *dataDir); err != nil {
			return err
		}
		if c.Blob.PublicURL == "" {
			c.Blob.PublicURL = LocalURL(c.Addr)
		}
		c.Blob.DataDir, c.Blob.Logger, c.Logger = *dataDir, logger, logger
		c.MaxUpload, c.MaxPresignedSize = *maxUpload, *maxPresigned
		if *emf {
			c.EMF = fs.Stdout()
		}
		return nil
	}
}
