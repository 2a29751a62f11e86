package blob

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
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
