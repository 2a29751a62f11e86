package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
)

// Sizes that cross the S3 backend's single-request threshold (16 MiB) and part size (8 MiB), so
// the multipart path runs too.
const (
	bigSize = 20 << 20
	mib     = 1 << 20
)

// Run is the conformance suite: every backend must pass it. newTarget returns a fresh, empty
// target for each case.
func Run(t *testing.T, newTarget func(t testing.TB) Target) {
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, newTarget) })
	t.Run("TooLarge", func(t *testing.T) { t.Parallel(); testTooLarge(t, newTarget) })
	t.Run("AbortedWrite", func(t *testing.T) { t.Parallel(); testAbortedWrite(t, newTarget) })
	t.Run("Overwrite", func(t *testing.T) { t.Parallel(); testOverwrite(t, newTarget) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, newTarget) })
	t.Run("BadKeys", func(t *testing.T) { t.Parallel(); testBadKeys(t, newTarget) })
	t.Run("Ping", func(t *testing.T) { t.Parallel(); testPing(t, newTarget) })
	t.Run("SignedRoundTrip", func(t *testing.T) { t.Parallel(); testSignedRoundTrip(t, newTarget) })
	t.Run("SignedPutRefused", func(t *testing.T) { t.Parallel(); testSignedPutRefused(t, newTarget) })
	t.Run("SignedExpired", func(t *testing.T) { t.Parallel(); testSignedExpired(t, newTarget) })
	t.Run("SignedTampered", func(t *testing.T) { t.Parallel(); testSignedTampered(t, newTarget) })
	t.Run("Outage", func(t *testing.T) { t.Parallel(); testOutage(t, newTarget) })
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkObject reads key back and compares its size, content type and digest.
func checkObject(t testing.TB, b *blob.Bucket, key string, size int64, sum [32]byte, ct string) {
	t.Helper()
	ctx := ctxT(t)
	a, err := b.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat(%s): %v", key, err)
	}
	if a.Size != size || a.ContentType != ct {
		t.Errorf("Stat(%s) = size %d type %q, want %d %q", key, a.Size, a.ContentType, size, ct)
	}
	r, err := b.NewReader(ctx, key)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", key, err)
	}
	defer r.Close()
	if got := r.Attrs().Size; got != size {
		t.Errorf("Reader.Attrs().Size = %d, want %d", got, size)
	}
	n, got, err := hashReader(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if n != size || got != sum {
		t.Errorf("read %s: %d bytes sha256 %x, want %d bytes %x", key, n, got, size, sum)
	}
}

// checkAbsent asserts key holds no object.
func checkAbsent(t testing.TB, b *blob.Bucket, key string) {
	t.Helper()
	if _, err := b.Stat(ctxT(t), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%s) after failed write: err = %v, want ErrNotFound", key, err)
	}
}

func testRoundTrip(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	cases := []struct {
		name string
		size int64
		ct   string
	}{
		{"empty", 0, "application/octet-stream"},
		{"one byte", 1, "text/plain; charset=utf-8"},
		{"odd", 123457, "application/pdf"},
		{"3 MiB", 3 * mib, "image/png"},
		{"20 MiB multipart", bigSize, "application/zip"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "uploads/owner/obj-" + string(rune('a'+i))
			src := NewStream(byte(i), c.size)
			n, err := tg.Bucket.Put(ctxT(t), key, src, blob.PutOptions{ContentType: c.ct, MaxSize: 64 * mib})
			if err != nil || n != c.size {
				t.Fatalf("Put = %d, %v; want %d, nil", n, err, c.size)
			}
			checkObject(t, tg.Bucket, key, c.size, src.Sum(), c.ct)
		})
	}
	t.Run("default content type", func(t *testing.T) {
		if _, err := tg.Bucket.Put(ctxT(t), "plain", strings.NewReader("x"), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		checkObject(t, tg.Bucket, "plain", 1, sha256.Sum256([]byte("x")), blob.DefaultContentType)
	})
}

func testTooLarge(t *testing.T, newTarget func(testing.TB) Target) {
	cases := []struct {
		name      string
		size, max int64
		ok        bool
	}{
		{"exactly the limit", 1000, 1000, true},
		{"one byte over", 1001, 1000, false},
		{"10 MiB limit, 11 MiB body", 11 * mib, 10 * mib, false},
		{"over while multipart", bigSize, 18 * mib, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := newTarget(t)
			before := tg.Residue(t)
			src := NewStream(byte(i), c.size)
			_, err := tg.Bucket.Put(ctxT(t), "k", src, blob.PutOptions{MaxSize: c.max})
			if c.ok {
				if err != nil {
					t.Fatalf("Put at the limit: %v", err)
				}
				checkObject(t, tg.Bucket, "k", c.size, src.Sum(), blob.DefaultContentType)
				return
			}
			if !errors.Is(err, blob.ErrTooLarge) {
				t.Fatalf("Put over the limit: err = %v, want ErrTooLarge", err)
			}
			checkAbsent(t, tg.Bucket, "k")
			if after := tg.Residue(t); !slices.Equal(before, after) {
				t.Errorf("residue after refused write: %v, before %v", after, before)
			}
		})
	}
}

func testAbortedWrite(t *testing.T, newTarget func(testing.TB) Target) {
	cases := []struct {
		name   string
		size   int64
		at     int64 // bytes read before the failure
		cancel bool  // cancel the context, else the source fails
	}{
		{"cancel early", mib, 100 << 10, true},
		{"cancel after multipart started", 3 * bigSize, 2 * bigSize, true},
		{"source fails early", mib, 100 << 10, false},
		{"source fails after multipart started", 3 * bigSize, 2 * bigSize, false},
		{"source fails at once", mib, 0, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := newTarget(t)
			before := tg.Residue(t)
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			src := NewStream(byte(i), c.size)
			var r io.Reader = src
			if c.cancel {
				src.after, src.atLeast = cancel, c.at
			} else {
				r = &failingReader{r: src, n: c.at}
			}
			_, err := tg.Bucket.Put(ctx, "uploads/o/aborted", r, blob.PutOptions{MaxSize: 4 * bigSize})
			switch {
			case c.cancel && !errors.Is(err, context.Canceled):
				t.Fatalf("Put with cancelled context: err = %v, want context.Canceled", err)
			case !c.cancel && !errors.Is(err, errSourceBroken):
				t.Fatalf("Put from a failing source: err = %v, want the source's error", err)
			}
			checkAbsent(t, tg.Bucket, "uploads/o/aborted")
			if after := tg.Residue(t); !slices.Equal(before, after) {
				t.Errorf("residue after aborted write: %v, before %v", after, before)
			}
		})
	}
}

func testOverwrite(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	ctx := ctxT(t)
	if _, err := tg.Bucket.Put(ctx, "k", NewStream(1, 100), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Bucket.Put(ctx, "k", NewStream(2, 200), blob.PutOptions{ContentType: "text/csv"}); err != nil {
		t.Fatal(err)
	}
	checkObject(t, tg.Bucket, "k", 200, Digest(2, 200), "text/csv")
	_, err := tg.Bucket.Put(ctx, "k", NewStream(3, 300), blob.PutOptions{IfNotExist: true})
	if !errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put IfNotExist over an object: err = %v, want ErrExists", err)
	}
	checkObject(t, tg.Bucket, "k", 200, Digest(2, 200), "text/csv")
	if _, err := tg.Bucket.Put(ctx, "fresh", NewStream(4, 10), blob.PutOptions{IfNotExist: true}); err != nil {
		t.Fatalf("Put IfNotExist on a free key: %v", err)
	}
}

func testDelete(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	ctx := ctxT(t)
	before := tg.Residue(t)
	if _, err := tg.Bucket.Put(ctx, "uploads/a/b", bytes.NewReader([]byte("data")), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tg.Bucket.Delete(ctx, "uploads/a/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkAbsent(t, tg.Bucket, "uploads/a/b")
	_, err := tg.Bucket.NewReader(ctx, "uploads/a/b")
	if !errors.Is(err, blob.ErrNotFound) || !errors.Is(err, decagon.ErrNotFound) {
		t.Errorf("NewReader after Delete: err = %v, want ErrNotFound (and decagon.ErrNotFound)", err)
	}
	if err := tg.Bucket.Delete(ctx, "uploads/a/b"); err != nil {
		t.Errorf("Delete of a missing object: %v, want nil", err)
	}
	if err := tg.Bucket.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete of a never-written key: %v, want nil", err)
	}
	after := tg.Residue(t)
	for _, r := range after {
		if strings.Contains(r, "uploads/a/b") {
			t.Errorf("residue after Delete: %v (before %v)", after, before)
		}
	}
}

func testBadKeys(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	ctx := ctxT(t)
	for _, key := range []string{
		"", "/abs", "a/../b", "..", "a/./b", "a//b", "trailing/", ".hidden", "a/.b",
		"sp ace", "new\nline", "ütf", "a\\b", "x.attrs", "x.tmp", "a__0x2f__b", "q?x", "p%2e",
		strings.Repeat("a", blob.MaxKeyLen+1),
	} {
		if _, err := tg.Bucket.Put(ctx, key, strings.NewReader("x"), blob.PutOptions{}); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := tg.Bucket.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := tg.Bucket.NewReader(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("NewReader(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if err := tg.Bucket.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := tg.Bucket.SignedURL(ctx, key, blob.SignOptions{Method: "GET"}); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("SignedURL(%q): err = %v, want ErrInvalidKey", key, err)
		}
	}
	if got := tg.Residue(t); len(got) != 0 {
		t.Errorf("bad keys left %v", got)
	}
	if err := blob.ValidKey("uploads/0f3a9c/5b1e-4c2d.v2_x=1"); err != nil {
		t.Errorf("ValidKey(a good key): %v", err)
	}
}

func testPing(t *testing.T, newTarget func(testing.TB) Target) {
	tg := newTarget(t)
	if err := tg.Bucket.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := tg.Residue(t); len(got) != 0 {
		t.Errorf("Ping left %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tg.Bucket.Ping(ctx); err == nil {
		t.Error("Ping with a cancelled context: nil error")
	}
}
