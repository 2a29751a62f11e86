package uploadsapi_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/decagon/decagon/internal/blob/blobtest"
)

const benchSize = 8 << 20

// BenchmarkDirectUpload measures POST /upload of a raw 8 MiB body through HTTP into the
// directory store (sniffing, SHA-256, fsync, metadata row). Compare with BenchmarkPlainCopy,
// the same bytes copied to a file and fsynced, in the same run:
//
//	go test -run '^$' -bench 'DirectUpload|PlainCopy' ./internal/uploads/uploadsapi/
func BenchmarkDirectUpload(b *testing.B) {
	data := make([]byte, benchSize)
	_, _ = rand.Read(data)
	target := blobtest.NewFile(b)
	srv := server(b, target, 16<<20)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("POST", srv.URL+"/upload?filename=bench.bin", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-Test-User", "bench")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkPlainCopy is the reference for BenchmarkDirectUpload: write, fsync, rename.
func BenchmarkPlainCopy(b *testing.B) {
	data := make([]byte, benchSize)
	_, _ = rand.Read(data)
	dir := b.TempDir()
	b.SetBytes(benchSize)
	for i := 0; b.Loop(); i++ {
		f, err := os.CreateTemp(dir, "copy")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := os.Rename(f.Name(), filepath.Join(dir, "obj")); err != nil {
			b.Fatal(err)
		}
	}
}
