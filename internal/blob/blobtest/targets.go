// Package blobtest holds the conformance suite that every blob backend must pass, and the
// targets it runs against: a directory in t.TempDir() whose signed URLs are served by an
// httptest server, and an S3 bucket on an in-process S3-compatible server (gofakes3, s3mem)
// reached through the real AWS SDK. Other packages' tests use NewFile and NewS3 to get a
// working *blob.Bucket of either kind.
package blobtest

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/decagon/decagon/internal/blob"
)

// Target is one backend under test.
type Target struct {
	// Bucket is fresh and empty; it is closed by t.Cleanup.
	Bucket *blob.Bucket
	// Advance moves the clock that signed URLs' expiry is checked against forward by d.
	Advance func(d time.Duration)
	// Residue lists everything the backend holds — objects, files, unfinished multipart
	// uploads — so a test can check that a failed write left nothing behind.
	Residue func(t testing.TB) []string
	// Outage makes the backend fail as it does in production — the S3 endpoint goes down
	// (OutageDown), the directory's disk fills up (OutageFull) — and returns which, and the
	// function that ends the outage (also called by t.Cleanup). The directory's outage mounts a
	// tmpfs over it, which hides the objects written before; it skips t when mounting is not
	// permitted.
	Outage func(t testing.TB) (kind string, end func())
	// URL is what the bucket was opened with; for S3, OpenS3 opens it again (in another
	// process, say, to measure the client's memory apart from the server's).
	URL string
	// UploadParts, for S3, counts the UploadPart requests the server has answered: how a test
	// tells a multipart upload from a single PUT. Nil for the file backend.
	UploadParts func() int64
	// Route, for the file backend, sends the requests for its signed URLs (PublicURL) to h
	// instead of the bucket's own SignedHandler: a test mounts the service that serves them in
	// production. Nil for S3, which serves its own.
	Route func(h http.Handler)
}

// SignedPrefix is where NewFile mounts the bucket's SignedHandler.
const SignedPrefix = "/upload/_blob/"

// clock is a real clock that tests can move forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// NewFile returns a file-backend target in t.TempDir(), its signed URLs served by an httptest
// server that mounts SignedHandler under SignedPrefix.
func NewFile(t testing.TB) Target {
	t.Helper()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	c := &clock{}
	b, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(dir), blob.Options{
		URLSecret: secret,
		PublicURL: "http://" + srv.Listener.Addr().String() + SignedPrefix,
		Now:       c.Now,
	})
	if err != nil {
		t.Fatalf("open file bucket: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(SignedPrefix, b.SignedHandler(SignedPrefix, nil))
	var route atomic.Pointer[http.Handler]
	var h http.Handler = mux
	route.Store(&h)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*route.Load()).ServeHTTP(w, r) })
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = b.Close()
	})
	residue := func(t testing.TB) []string {
		t.Helper()
		var out []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				rel, _ := filepath.Rel(dir, path)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", dir, err)
		}
		sort.Strings(out)
		return out
	}
	outage := func(t testing.TB) (string, func()) {
		t.Helper()
		end := MountTmpfs(t, dir, "1m", false)
		fill(t, dir)
		return OutageFull, end
	}
	return Target{Bucket: b, Advance: c.Advance, Residue: residue, Outage: outage, URL: "file://" + filepath.ToSlash(dir),
		Route: func(h http.Handler) { route.Store(&h) }}
}

// Credentials and region of the in-process S3 server.
const (
	s3Bucket = "decagon-test"
	s3Region = "us-east-1"
	s3KeyID  = "AKIADECAGONTEST"
	s3Secret = "decagon-test-secret"
)

// NewS3 returns an S3-backend target: a gofakes3 server (in-memory backend) on httptest,
// wrapped in a SigV4 presigned-URL check (gofakes3 verifies no signatures itself), opened
// through blob.Open with an s3:// URL, so the real AWS SDK client code runs.
func NewS3(t testing.TB) Target {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(s3Bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	c := &clock{}
	creds := aws.Credentials{AccessKeyID: s3KeyID, SecretAccessKey: s3Secret}
	sw := &switchable{next: &presignVerifier{next: faker.Server(), creds: creds, region: s3Region, now: c.Now}}
	var parts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			parts.Add(1)
		}
		sw.ServeHTTP(w, r)
	}))
	provider := credentials.NewStaticCredentialsProvider(s3KeyID, s3Secret, "")
	// request_checksum_calculation=when_required: gofakes3 does not understand the SDK's
	// default aws-chunked uploads with trailing checksums (nor do several other S3 servers).
	u := "s3://" + s3Bucket + "?region=" + s3Region + "&use_path_style=true&request_checksum_calculation=when_required&endpoint=" + url.QueryEscape(srv.URL)
	b, err := OpenS3(context.Background(), u)
	if err != nil {
		t.Fatalf("open s3 bucket: %v", err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		srv.Close()
	})
	client := s3.New(s3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  provider,
	})
	residue := func(t testing.TB) []string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out []string
		objs, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket)})
		if err != nil {
			t.Fatalf("list objects: %v", err)
		}
		for _, o := range objs.Contents {
			out = append(out, "object:"+aws.ToString(o.Key))
		}
		ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s3Bucket)})
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload":
			// gofakes3 answers NoSuchUpload until the bucket's first multipart upload: none.
		case err != nil:
			t.Fatalf("list multipart uploads: %v", err)
		default:
			for _, u := range ups.Uploads {
				out = append(out, "multipart:"+aws.ToString(u.Key))
			}
		}
		sort.Strings(out)
		return out
	}
	outage := func(t testing.TB) (string, func()) {
		sw.down.Store(true)
		end := func() { sw.down.Store(false) }
		t.Cleanup(end)
		return OutageDown, end
	}
	return Target{Bucket: b, Advance: c.Advance, Residue: residue, Outage: outage, URL: u, UploadParts: parts.Load}
}

// OpenS3 opens the URL of a Target from NewS3 with the credentials its server accepts.
func OpenS3(ctx context.Context, u string) (*blob.Bucket, error) {
	return blob.Open(ctx, u, blob.Options{S3Credentials: credentials.NewStaticCredentialsProvider(s3KeyID, s3Secret, "")})
}
