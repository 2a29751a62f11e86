package uploadsapi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/blob/blobtest"
)

// benchSizes are the direct uploads issue 13 sizes: 1 to 8 MiB.
var benchSizes = []int{1 << 20, 8 << 20}

// BenchmarkDirectUpload measures POST /upload of a raw body through loopback HTTP into the
// directory store (sniffing, SHA-256, fsyncs, metadata row). Compare with BenchmarkPlainCopy,
// the same request into a handler that only copies the body to a file, in the same run:
//
//	go test -run '^$' -bench 'DirectUpload|PlainCopy' ./internal/uploads/uploadsapi/
//
// cpu-ns/B is the process's CPU time (user + system, client and server alike) per byte; on a
// 0.25 vCPU task it, not MB/s on this machine's cores, bounds what a task serves.
//
// The body is declared application/octet-stream, which the directory store keeps without a
// sidecar; "typed" declares application/pdf, whose sidecar (a small file written and fsynced
// during the copy) is the store's only extra per object.
func BenchmarkDirectUpload(b *testing.B) {
	for _, ct := range []string{"application/octet-stream", "application/pdf"} {
		for _, size := range benchSizes {
			name := sizeName(size)
			if ct != "application/octet-stream" {
				name = "typed/" + name
			}
			b.Run(name, func(b *testing.B) {
				srv := server(b, blobtest.NewFile(b), 16<<20)
				postLoop(b, srv.URL+"/upload?filename=bench.bin", ct, size)
			})
		}
	}
}

// BenchmarkPlainCopy is the reference for BenchmarkDirectUpload: the same request over loopback
// HTTP into a handler that copies the body through a buffer of the same size as the store's
// into a temporary file, fsyncs it once, renames it into place and fsyncs the directory — the
// durability of a direct upload, with nothing else. "sha256" also hashes the bytes as they pass,
// as bench/fargate's minimal handler does: the reference for the hash the upload's record keeps.
func BenchmarkPlainCopy(b *testing.B) {
	for _, hashed := range []bool{false, true} {
		for _, size := range benchSizes {
			name := sizeName(size)
			if hashed {
				name = "sha256/" + name
			}
			b.Run(name, func(b *testing.B) {
				srv := httptest.NewServer(plainCopyHandler(b.TempDir(), hashed))
				b.Cleanup(srv.Close)
				postLoop(b, srv.URL+"/upload?filename=bench.bin", "application/octet-stream", size)
			})
		}
	}
}

func sizeName(size int) string { return strconv.Itoa(size>>20) + "MiB" }

// postLoop POSTs size random bytes of type ct to url per iteration, expects 201, and reports
// MB/s and the process's CPU time per byte.
func postLoop(b *testing.B, url, ct string, size int) {
	b.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	post := func() {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(data))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Test-User", "bench")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	post() // connection and first-use allocations outside the measurement
	cpu0 := cpuTime(b)
	n := 0
	for b.Loop() {
		post()
		n++
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(n*size), "cpu-ns/B")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// copyBufSize is the store's copy buffer (internal/blob), so that both sides write in the same
// chunks.
const copyBufSize = 256 << 10

func plainCopyHandler(dir string, hashed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := plainCopy(w, dir, r.Body, hashed); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}
}

func plainCopy(w http.ResponseWriter, dir string, body io.Reader, hashed bool) error {
	f, err := os.CreateTemp(dir, "obj-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	var h hash.Hash
	if hashed {
		h = sha256.New()
	}
	buf := make([]byte, copyBufSize)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if h != nil {
				h.Write(buf[:n])
			}
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			return rerr
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if h != nil {
		w.Header().Set("X-SHA256", hex.EncodeToString(h.Sum(nil)))
	}
	// A new name per object, as every upload's key is.
	if err := os.Rename(f.Name(), strings.TrimSuffix(f.Name(), ".tmp")); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
