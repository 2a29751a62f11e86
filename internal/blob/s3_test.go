package blob_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/blob/blobtest"
)

// TestS3PresignShape pins what the SDK's presigned URLs bind, since gofakes3 checks nothing
// itself and the conformance suite's checks go through a verifier built on the same SDK.
func TestS3PresignShape(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	ctx := context.Background()
	cases := []struct {
		name          string
		o             blob.SignOptions
		signedHeaders string
		query         map[string]string
	}{
		{"PUT", blob.SignOptions{Method: http.MethodPut, ContentType: "image/png", ContentLength: 1234, Expiry: 10 * time.Minute},
			"content-length;content-type;host;if-none-match", map[string]string{"X-Amz-Expires": "600", "x-id": "PutObject"}},
		// SigV4 signs no zero Content-Length: S3 does not bind an empty upload's size.
		{"PUT empty", blob.SignOptions{Method: http.MethodPut, ContentLength: 0},
			"content-type;host;if-none-match", map[string]string{"X-Amz-Expires": "900"}},
		{"GET", blob.SignOptions{Method: http.MethodGet, ContentDisposition: `attachment; filename="a.pdf"`, ContentType: "application/pdf"},
			"host", map[string]string{"response-content-disposition": `attachment; filename="a.pdf"`, "response-content-type": "application/pdf"}},
	}
	for _, c := range cases {
		su, err := tg.Bucket.SignedURL(ctx, "uploads/o/x", c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		u, err := url.Parse(su.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if got := q.Get("X-Amz-SignedHeaders"); got != c.signedHeaders {
			t.Errorf("%s: signed headers %q, want %q", c.name, got, c.signedHeaders)
		}
		for k, v := range c.query {
			if q.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, q.Get(k), v)
			}
		}
		for k := range q {
			if strings.Contains(strings.ToLower(k), "checksum") {
				t.Errorf("%s: URL carries %s; a presigned PUT must not carry the checksum of an empty body", c.name, k)
			}
		}
		if !strings.HasSuffix(u.Path, "/decagon-test/uploads/o/x") {
			t.Errorf("%s: path %q", c.name, u.Path)
		}
	}
}

// TestS3PresignDefaultChecksum: with the SDK's default checksum mode (when_supported, what a
// deployment gets without request_checksum_calculation=) a presigned PUT still carries no
// checksum. Presigning makes no request, so no server is needed.
func TestS3PresignDefaultChecksum(t *testing.T) {
	t.Parallel()
	b, err := blob.Open(context.Background(), "s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true",
		blob.Options{S3Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	su, err := b.SignedURL(context.Background(), "k", blob.SignOptions{Method: http.MethodPut, ContentLength: 10})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(su.URL), "checksum") {
		t.Errorf("presigned PUT %s carries a checksum parameter", su.URL)
	}
	for k := range su.Header {
		if strings.Contains(strings.ToLower(k), "checksum") {
			t.Errorf("presigned PUT requires header %s", k)
		}
	}
}

// TestS3SignedHandlerIsInert: S3 serves its own presigned URLs; the handler refuses everything.
func TestS3SignedHandlerIsInert(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	h := tg.Bucket.SignedHandler("/upload/_blob/", nil)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		rec := newRecorder()
		h.ServeHTTP(rec, mustRequest(t, m, "/upload/_blob/uploads/x?token=abc"))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", m, rec.Code)
		}
	}
}

// TestS3PartsLimit: an S3 Put streams at most maxParts parts. At the limit it is a multipart
// upload of exactly that many parts; one byte past it fails with ErrTooLarge naming the limit,
// and leaves neither an object nor an unfinished multipart upload. (The real limit is 10,000
// parts of 8 MiB; the test makes it 3 parts of 5 MiB, S3's smallest part.)
func TestS3PartsLimit(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	const part, parts = 5 << 20, 3
	blob.SetS3Parts(tg.Bucket, part, parts)
	ctx := context.Background()
	src := blobtest.NewStream(1, part*parts)
	n, err := tg.Bucket.Put(ctx, "at-limit", src, blob.PutOptions{})
	if err != nil || n != part*parts {
		t.Fatalf("Put of %d parts' worth = %d, %v", parts, n, err)
	}
	if got := tg.UploadParts(); got != parts {
		t.Errorf("Put of %d bytes sent %d parts, want %d", n, got, parts)
	}
	checkContent(t, tg.Bucket, "at-limit", src.Sum())
	for _, o := range []blob.PutOptions{{}, {MaxSize: 1 << 40}} {
		_, err = tg.Bucket.Put(ctx, "past-limit", blobtest.NewStream(2, part*parts+1), o)
		if !errors.Is(err, blob.ErrTooLarge) || !strings.Contains(err.Error(), "at most 3 parts of 5 MiB") {
			t.Errorf("Put one byte past the parts limit (MaxSize %d) = %v, want ErrTooLarge naming the limit", o.MaxSize, err)
		}
	}
	if got := tg.Residue(t); strings.Join(got, ",") != "object:at-limit" {
		t.Errorf("residue %v, want only the object at the limit", got)
	}
}

// checkContent reads key back and compares its SHA-256 with want.
func checkContent(t *testing.T, b *blob.Bucket, key string, want [32]byte) {
	t.Helper()
	r, err := b.NewReader(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != want {
		t.Errorf("%s reads back different bytes", key)
	}
}

// s3ChildEnv, set, makes TestS3MultipartMemory the client process: it streams one object to
// the S3 URL the variable holds and prints its heap's peak.
const s3ChildEnv = "DECAGON_TEST_S3_PUT_URL"

// TestS3MultipartMemory: a Put well past the multipart threshold goes up as a multipart upload
// of 8 MiB parts, reads back byte for byte, and the client's memory does not grow with the
// object: its heap's peak while streaming 192 MiB is within a few MiB of its peak for 24 MiB,
// and under a bound (Put's 40 MiB of parts; 43 MiB measured, 75 MiB under the race detector,
// whose sync.Pool drops buffers on purpose). The client runs in a process of its own (this test
// binary again), since the in-process S3 server keeps every part in memory; the objects stay
// small enough for that server, and a 1 GiB one would take the client no more.
func TestS3MultipartMemory(t *testing.T) {
	if u := os.Getenv(s3ChildEnv); u != "" {
		s3PutChild(t, u)
		return
	}
	if testing.Short() {
		t.Skip("streams 216 MiB through an in-memory S3 server")
	}
	tg := blobtest.NewS3(t)
	const mib = 1 << 20
	peaks := map[int64]int64{}
	for _, size := range []int64{24 * mib, 192 * mib} {
		key := fmt.Sprintf("big-%d", size)
		cmd := exec.Command(os.Args[0], "-test.run", "^TestS3MultipartMemory$")
		cmd.Env = append(os.Environ(), s3ChildEnv+"="+tg.URL, "DECAGON_TEST_S3_PUT_SIZE="+strconv.FormatInt(size, 10))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client process: %v\n%s", err, out)
		}
		var peak int64
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "heap-peak "); ok {
				peak, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		if peak == 0 {
			t.Fatalf("client process printed no heap peak:\n%s", out)
		}
		peaks[size] = peak
		t.Logf("Put of %d MiB: client heap peak %.1f MiB over its start", size/mib, float64(peak)/mib)
		checkContent(t, tg.Bucket, key, blobtest.NewStream(9, size).Drain())
	}
	if got, want := tg.UploadParts(), int64((24+192)/8); got != want {
		t.Errorf("%d UploadPart requests, want %d (8 MiB parts)", got, want)
	}
	if p := peaks[192*mib]; p > 96*mib {
		t.Errorf("heap peak %.1f MiB streaming 192 MiB, want under 96 MiB", float64(p)/mib)
	}
	if grow := peaks[192*mib] - peaks[24*mib]; grow > 16*mib {
		t.Errorf("heap peak grew by %.1f MiB from a 24 MiB to a 192 MiB object; want it flat (under 16 MiB)", float64(grow)/mib)
	}
}

// s3PutChild streams DECAGON_TEST_S3_PUT_SIZE bytes of NewStream(9, …) to big-SIZE at url and
// prints the peak of the heap's objects over the start, sampled every millisecond.
func s3PutChild(t *testing.T, url string) {
	size, err := strconv.ParseInt(os.Getenv("DECAGON_TEST_S3_PUT_SIZE"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := blobtest.OpenS3(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	runtime.GC()
	base := heap()
	var peak atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := heap() - base; h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	_, err = b.Put(ctx, fmt.Sprintf("big-%d", size), blobtest.NewStream(9, size), blob.PutOptions{MaxSize: size})
	close(done)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("heap-peak %d\n", peak.Load())
}

// TestS3PutsBounded: past the bound on Puts in progress, a Put waits for one to end before it
// reads its body, gives up when its context is done (no object left), and goes through once a
// Put has ended.
func TestS3PutsBounded(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	blob.SetPuts(tg.Bucket, 1)
	ctx := context.Background()

	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := tg.Bucket.Put(ctx, "first", pr, blob.PutOptions{})
		first <- err
	}()
	if _, err := pw.Write([]byte("started")); err != nil { // the first Put holds the token
		t.Fatal(err)
	}

	read := false
	waiting, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := tg.Bucket.Put(waiting, "second", readFunc(func(p []byte) (int, error) {
		read = true
		return 0, io.EOF
	}), blob.PutOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || decagon.ErrorCode(err) != decagon.EUnavailable || read {
		t.Fatalf("Put past the bound = %v (code %q, body read: %v), want it to wait, then end with its context as unavailable",
			err, decagon.ErrorCode(err), read)
	}

	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first Put: %v", err)
	}
	if _, err := tg.Bucket.Put(ctx, "third", strings.NewReader("x"), blob.PutOptions{}); err != nil {
		t.Fatalf("Put once the first ended: %v", err)
	}
	if got := strings.Join(tg.Residue(t), ","); got != "object:first,object:third" {
		t.Errorf("residue %v, want the first and third objects only", got)
	}
}

type readFunc func(p []byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
