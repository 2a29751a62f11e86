package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Options configure Open. The zero value is enough for s3:// URLs; file:// URLs need URLSecret
// and PublicURL, because the directory's signed URLs are served by the uploads service itself.
type Options struct {
	// URLSecret is the HMAC-SHA256 key the file backend signs URLs with: at least 32 random
	// bytes, the same on every replica. Ignored for s3://.
	URLSecret []byte
	// PublicURL is the absolute http(s) URL, as clients reach it, under which the handler from
	// SignedHandler is mounted, e.g. "https://api.example.com/Test/upload/_blob/". A signed URL
	// is PublicURL + key + "?token=…". Ignored for s3://.
	PublicURL string
	// S3Credentials, when set, replaces the default AWS credential chain (environment variables,
	// shared config and credentials files or the profile= parameter, web identity, the ECS task
	// role, the EC2 instance role). Tests set it; deployments leave it nil.
	S3Credentials aws.CredentialsProvider
	// Logger receives the rare events worth a line (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock that file-backend URLs are signed and checked against (nil: time.Now).
	// S3 presigning uses the SDK's clock.
	Now func() time.Time
}

// Open opens the object store that blobURL names:
//
//	s3://BUCKET?region=R[&endpoint=URL][&use_path_style=true]
//	file:///ABSOLUTE/DIR
//
// For s3://, credentials come from the default AWS chain (see Options.S3Credentials). Besides
// region, the query takes gocloud.dev's parameters: endpoint (an S3-compatible server),
// use_path_style or its older spelling s3ForcePathStyle, disable_https, hostname_immutable,
// profile, role, anonymous, dualstack, fips, rate_limiter_capacity, request_checksum_calculation
// and response_checksum_validation (when_required suits most third-party S3 servers). Open
// makes no request; use Ping.
//
// For file://, the directory is created (0700) if missing; the URL takes no query parameters.
func Open(ctx context.Context, blobURL string, opts Options) (*Bucket, error) {
	u, err := url.Parse(blobURL)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", redact(blobURL), err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var b *Bucket
	switch u.Scheme {
	case "s3":
		b, err = openS3(ctx, u, opts)
	case "file":
		b, err = openFile(u, opts)
	default:
		return nil, fmt.Errorf("blob: open %q: unsupported scheme %q; use s3://BUCKET?region=R[&endpoint=URL&use_path_style=true] or file:///ABSOLUTE/DIR", redact(blobURL), u.Scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", redact(blobURL), err)
	}
	b.logger = opts.Logger
	b.now = opts.Now
	return b, nil
}

// redact drops any user info from a URL before it goes into an error message.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Config is how a service names its object store: the flags of `decagon serve` and `decagon dev`.
type Config struct {
	// URL is an s3:// or file:// URL (see Open); empty means the directory DataDir/blobs.
	URL string
	// Secret is the hex key (at least 32 bytes) the directory store signs URLs with, the same on
	// every replica; empty means the one kept in DataDir/blob-url-secret, made on first use.
	Secret string
	// PublicURL is the absolute URL under which the directory store's signed URLs are served
	// (Options.PublicURL); required for a directory store.
	PublicURL string
	// DataDir holds the default directory and secret.
	DataDir string
	// Logger as in Options.
	Logger *slog.Logger
}

// OpenConfig opens the object store c names, filling what the directory store needs from the
// data dir.
func OpenConfig(ctx context.Context, c Config) (*Bucket, error) {
	raw := c.URL
	if raw == "" {
		dir, err := filepath.Abs(filepath.Join(c.DataDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("blob: data dir: %w", err)
		}
		raw = (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	}
	opts := Options{Logger: c.Logger}
	if strings.HasPrefix(raw, "file:") {
		secret, err := URLSecret(c.Secret, c.DataDir)
		if err != nil {
			return nil, err
		}
		if c.PublicURL == "" {
			return nil, errors.New("blob: the directory store needs a public URL: the base URL clients reach the API at")
		}
		opts.URLSecret = secret
		opts.PublicURL = c.PublicURL
	}
	return Open(ctx, raw, opts)
}

// secretFile is where URLSecret keeps the directory store's key in the data dir.
const secretFile = "blob-url-secret"

// URLSecret returns the key given in hex, or the one kept in dataDir, made on first use. Every
// replica of a stack shares the data dir, so they sign and check URLs with one key.
func URLSecret(hexKey, dataDir string) ([]byte, error) {
	if hexKey != "" {
		b, err := hex.DecodeString(hexKey)
		if err != nil || len(b) < 32 {
			return nil, errors.New("blob: the URL secret must be at least 32 bytes in hex")
		}
		return b, nil
	}
	path := filepath.Join(dataDir, secretFile)
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("blob: %s: want at least 32 bytes in hex", path)
		}
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob: read URL secret: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: data dir: %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (crypto/rand)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another replica made it first: use theirs.
		return URLSecret("", dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: create URL secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(secret)); err != nil {
		return nil, fmt.Errorf("blob: write URL secret: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("blob: write URL secret: %w", err)
	}
	return secret, nil
}
