package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcaws "gocloud.dev/aws"
	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/decagon/decagon/internal/problem"
)

// S3 transfer settings for Put, sized for a task of 512 MiB (the seed's services). S3 needs every
// request's length up front, so a streamed write is cut into parts held in memory: an object
// under s3Threshold goes up in one PutObject, a larger one as a multipart upload of s3PartSize
// parts, s3Concurrency of them in flight while the next one fills. A Put therefore holds at most
// about s3Threshold (the first read, which decides between the two) + (s3Concurrency+1) ×
// s3PartSize = 40 MiB, whatever the object's size: a 1 GiB object takes no more than a 20 MiB
// one (TestS3MultipartMemory measures it).
//
// S3 allows 10,000 parts per upload, so 8 MiB parts make s3MaxStream (10,000 × 8 MiB, 78 GiB) the
// largest object a Put can stream. S3's own limit, 5 TiB, would need parts of 525 MiB — more
// than such a task's memory — and the size of a stream is not known before its end, so the part
// size is not scaled to it: a Put past s3MaxStream fails with ErrTooLarge naming this limit, before
// the part past the 10,000th is sent, and the multipart upload is aborted. Objects that large go
// straight to S3 from the client (a presigned PUT, up to 5 GiB, or the client's own multipart
// upload), never through a task.
//
// A Put's 40 MiB are per Put: s3MaxPuts of them stream at once (240 MiB, under half of such a
// task's memory, the rest left to the service itself and the GC's headroom);
// another waits for one to end, or for its request's context to be done, before it reads a byte
// of its body. Without the bound, a dozen concurrent large uploads would take a 512 MiB task
// past its memory.
const (
	s3MaxPuts     = 6
	s3PartSize    = 8 << 20
	s3Threshold   = 16 << 20
	s3Concurrency = 2
	// s3MaxParts is S3's limit on the parts of one multipart upload.
	s3MaxParts = 10_000
	// s3FailTimeout is how long aborting a failed multipart upload may take. The transfer
	// manager's default reuses the upload's context, which is already cancelled when we abort,
	// so the abort never reached S3 and the parts stayed (billed, invisible) until a lifecycle
	// rule removed them.
	s3FailTimeout = 30 * time.Second
)

type s3Backend struct {
	client   *s3.Client
	name     string
	checksum aws.RequestChecksumCalculation
	// partSize and maxParts are s3PartSize and s3MaxParts; tests make them small.
	partSize int64
	maxParts int64
}

func openS3(ctx context.Context, u *url.URL, opts Options) (*Bucket, error) {
	if u.Host == "" {
		return nil, errors.New("s3 URL needs a bucket name: s3://BUCKET?region=R")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("s3 URL takes no path (got %q); keys are relative to the bucket", u.Path)
	}
	q := u.Query()
	s3opts := []func(*s3.Options){func(o *s3.Options) {
		// Objects written by s3blob in one PUT carry no checksum S3 can return; the SDK
		// would log a line for each such GetObject.
		o.DisableLogOutputChecksumValidationSkipped = true
	}}
	for _, k := range []string{"use_path_style", "s3ForcePathStyle", "disable_https"} {
		v := q.Get(k)
		q.Del(k)
		if v == "" {
			continue
		}
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		if k == "disable_https" {
			s3opts = append(s3opts, func(o *s3.Options) { o.EndpointOptions.DisableHTTPS = on })
		} else {
			s3opts = append(s3opts, func(o *s3.Options) { o.UsePathStyle = on })
		}
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, err
	}
	if opts.S3Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(opts.S3Credentials)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: add region= to the URL or set AWS_REGION")
	}
	client := s3.NewFromConfig(cfg, s3opts...)
	gb, err := s3blob.OpenBucket(ctx, client, u.Host, &s3blob.Options{RequestChecksumCalculation: cfg.RequestChecksumCalculation})
	if err != nil {
		return nil, err
	}
	return &Bucket{bucket: gb, backend: &s3Backend{client: client, name: u.Host, checksum: cfg.RequestChecksumCalculation,
		partSize: s3PartSize, maxParts: s3MaxParts}, puts: make(chan struct{}, s3MaxPuts)}, nil
}

func (s *s3Backend) String() string { return "s3://" + s.name }

// prepareWrite swaps in a transfer manager configured as the constants above say; s3blob
// exposes its own through BeforeWrite only as a pointer, so the value is replaced in place.
func (s *s3Backend) prepareWrite(_ string, opts *gcblob.WriterOptions) writeHooks {
	opts.BeforeWrite = func(as func(any) bool) error {
		var tm *transfermanager.Client
		if !as(&tm) || tm == nil {
			return errors.New("s3blob did not expose its transfer manager")
		}
		*tm = *transfermanager.New(s.client, func(o *transfermanager.Options) {
			o.PartSizeBytes = s.partSize
			o.MultipartUploadThreshold = s3Threshold * s.partSize / s3PartSize
			o.Concurrency = s3Concurrency
			o.MaxUploadParts = s.maxParts
			o.FailTimeout = s3FailTimeout
			o.RequestChecksumCalculation = s.checksum
		})
		return nil
	}
	return writeHooks{}
}

// maxStream is the most a Put can stream: maxParts parts.
func (s *s3Backend) maxStream() (int64, string) {
	return s.maxParts * s.partSize, fmt.Sprintf("an S3 upload streams at most %d parts of %d MiB", s.maxParts, s.partSize>>20)
}

func (s *s3Backend) sign(ctx context.Context, key string, o SignOptions, now time.Time) (SignedURL, error) {
	presigner := s3.NewPresignClient(s.client, s3.WithPresignExpires(o.Expiry))
	// Checksums have no place in a presigned URL: earlier SDK releases put the checksum of an
	// empty body into presigned PUTs under the default when_supported mode, which made S3
	// reject every real upload, and a presigned GET would ask for X-Amz-Checksum-Mode that no
	// browser checks. Pinning when_required keeps both out (TestS3PresignDefaultChecksum).
	whenRequired := func(po *s3.PresignOptions) {
		po.ClientOptions = append(po.ClientOptions, func(so *s3.Options) {
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		})
	}
	switch o.Method {
	case http.MethodGet:
		in := &s3.GetObjectInput{Bucket: aws.String(s.name), Key: aws.String(key)}
		if o.ContentType != "" {
			in.ResponseContentType = aws.String(o.ContentType)
		}
		if o.ContentDisposition != "" {
			in.ResponseContentDisposition = aws.String(o.ContentDisposition)
		}
		req, err := presigner.PresignGetObject(ctx, in, whenRequired)
		if err != nil {
			return SignedURL{}, fmt.Errorf("presign GET: %w", err)
		}
		return SignedURL{URL: req.URL, Method: http.MethodGet, Header: http.Header{}, ExpiresAt: now.Add(o.Expiry)}, nil
	case http.MethodPut:
		in := &s3.PutObjectInput{
			Bucket:      aws.String(s.name),
			Key:         aws.String(key),
			ContentType: aws.String(o.ContentType),
			IfNoneMatch: aws.String("*"),
		}
		if o.ContentLength > 0 {
			in.ContentLength = aws.Int64(o.ContentLength)
		}
		req, err := presigner.PresignPutObject(ctx, in, whenRequired)
		if err != nil {
			return SignedURL{}, fmt.Errorf("presign PUT: %w", err)
		}
		h := http.Header{}
		for k, vs := range req.SignedHeader {
			if k != "Host" {
				h[k] = vs
			}
		}
		h.Set("Content-Length", strconv.FormatInt(o.ContentLength, 10))
		return SignedURL{URL: req.URL, Method: http.MethodPut, Header: h, ExpiresAt: now.Add(o.Expiry)}, nil
	}
	return SignedURL{}, fmt.Errorf("unsupported method %q", o.Method)
}

func (s *s3Backend) ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.name)})
	return err
}

// signedHandler: S3 serves its own presigned URLs, so there is nothing to serve here. The
// handler answers 404 so that mounting it unconditionally is harmless.
func (s *s3Backend) signedHandler(*Bucket, string, PutGate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem.New(http.StatusNotFound, "signed URLs are served by the S3 bucket"))
	})
}
