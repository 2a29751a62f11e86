package blob_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/blob/blobtest"
)

// repeatReader yields n bytes by cycling over buf: a source as fast as memory, so the
// benchmark measures the store, not the generator.
type repeatReader struct {
	buf  []byte
	left int64
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.buf[r.off:])
	r.off = (r.off + n) % len(r.buf)
	r.left -= int64(n)
	return n, nil
}

func randomBuf(b testing.TB) []byte {
	buf := make([]byte, 1<<20)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

// BenchmarkPutFile measures streamed writes to the file backend (fsync included) against a
// plain copy of the same bytes into a file in the same directory, with fsync and rename: the
// disk's own speed for the same durability.
func BenchmarkPutFile(b *testing.B) {
	buf := randomBuf(b)
	for _, size := range []int64{1 << 20, 10 << 20, 64 << 20} {
		name := strconv.FormatInt(size>>20, 10) + "MiB"
		b.Run("blob/"+name, func(b *testing.B) {
			tg := blobtest.NewFile(b)
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				key := "bench/k" + strconv.Itoa(i)
				if _, err := tg.Bucket.Put(ctx, key, &repeatReader{buf: buf, left: size}, blob.PutOptions{MaxSize: size}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := tg.Bucket.Delete(ctx, key); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
		b.Run("plain-copy/"+name, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				final := filepath.Join(dir, "k"+strconv.Itoa(i))
				if err := plainCopy(final, &repeatReader{buf: buf, left: size}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = os.Remove(final)
				b.StartTimer()
			}
		})
	}
}

func plainCopy(final string, r io.Reader) error {
	f, err := os.CreateTemp(filepath.Dir(final), "copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), final)
}

// TestPutMemoryFlat: a 64 MiB streamed Put to the file backend allocates a small constant, not
// the object. Not parallel, so other tests' allocations stay out of the count.
func TestPutMemoryFlat(t *testing.T) {
	tg := blobtest.NewFile(t)
	buf := randomBuf(t)
	ctx := context.Background()
	const size = 64 << 20
	put := func(key string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := tg.Bucket.Put(ctx, key, &repeatReader{buf: buf, left: size}, blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	put("warm") // the copy buffer pool and gocloud's first-use allocations
	alloc := put("measured")
	t.Logf("allocated %d KiB to store 64 MiB", alloc>>10)
	if alloc > 2<<20 {
		t.Errorf("Put of %d MiB allocated %s; want under 2 MiB", size>>20, fmt.Sprintf("%.1f MiB", float64(alloc)/(1<<20)))
	}
}
