package blob_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/decagon/decagon/internal/blob"
)

// openDir opens the directory store on a new temporary directory, closed when the test ends.
func openDir(t *testing.T) (*blob.Bucket, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(dir), blob.Options{URLSecret: secret, PublicURL: "http://127.0.0.1:1/b/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

// TestFileSidecar checks the sidecar the file backend writes itself (instead of fileblob's
// MD5-hashing writer): a plain fileblob bucket on the same directory reads the content type from
// it, no temporary file is left, and a write refused by IfNotExist leaves the existing object's
// content type as it was.
func TestFileSidecar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dir := openDir(t)
	if _, err := b.Put(ctx, "a/b/obj.json", strings.NewReader(`{"x":1}`), blob.PutOptions{ContentType: "application/json; charset=utf-8"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Put(ctx, "a/b/obj.json", strings.NewReader("other"), blob.PutOptions{ContentType: "text/plain", IfNotExist: true})
	if !errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put IfNotExist on an existing key = %v, want ErrExists", err)
	}

	plain, err := fileblob.OpenBucket(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	a, err := plain.Attributes(ctx, "a/b/obj.json")
	if err != nil {
		t.Fatal(err)
	}
	if a.ContentType != "application/json; charset=utf-8" || a.Size != 7 {
		t.Errorf("fileblob reads type %q size %d, want application/json; charset=utf-8, 7", a.ContentType, a.Size)
	}
	got, err := plain.ReadAll(ctx, "a/b/obj.json")
	if err != nil || string(got) != `{"x":1}` {
		t.Errorf("fileblob reads %q, %v", got, err)
	}
	var names []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, filepath.Base(p))
		}
		return err
	})
	if strings.Join(names, ",") != "obj.json,obj.json.attrs" {
		t.Errorf("files on disk %v, want obj.json and obj.json.attrs only", names)
	}
	// The other direction: an object fileblob wrote itself (MD5 in its sidecar) reads back.
	if err := plain.WriteAll(ctx, "c", []byte("hi"), &gcblob.WriterOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Stat(ctx, "c"); err != nil || st.ContentType != "text/plain" || st.Size != 2 {
		t.Errorf("Stat(c) = %+v, %v", st, err)
	}
}

// cancelAtEOF returns its data with io.EOF and cancels the write's context in the same call, so
// Put gets to its pre-close step (the sidecar is written) and the writer's Close then fails.
type cancelAtEOF struct {
	data   string
	cancel context.CancelFunc
}

func (r *cancelAtEOF) Read(p []byte) (int, error) {
	r.cancel()
	return copy(p, r.data), io.EOF
}

// TestFileFailedCloseKeepsSidecar: a write that fails at Close leaves what was there: the
// existing object's content type, or no sidecar at all.
func TestFileFailedCloseKeepsSidecar(t *testing.T) {
	t.Parallel()
	b, dir := openDir(t)
	if _, err := b.Put(context.Background(), "old", strings.NewReader("old"), blob.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"old", "new"} {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := b.Put(ctx, key, &cancelAtEOF{data: "replacement", cancel: cancel}, blob.PutOptions{ContentType: "application/json"})
		cancel()
		if err == nil {
			t.Fatalf("Put(%s) with the context cancelled at EOF succeeded", key)
		}
	}
	if st, err := b.Stat(context.Background(), "old"); err != nil || st.ContentType != "text/plain" || st.Size != 3 {
		t.Errorf("Stat(old) after a failed overwrite = %+v, %v; want text/plain, 3 bytes", st, err)
	}
	if names := filesIn(t, dir); strings.Join(names, ",") != "old,old.attrs" {
		t.Errorf("files on disk %v, want old and old.attrs only", names)
	}
}

// TestFileDefaultTypeNoSidecar: an object of the default content type gets no sidecar, since
// fileblob reads a missing one as that type; one it replaces loses its sidecar (a stray one too),
// unless the replacing write fails, which leaves the old type in place.
func TestFileDefaultTypeNoSidecar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, dir := openDir(t)
	put := func(key, ct string, o blob.PutOptions) {
		t.Helper()
		o.ContentType = ct
		if _, err := b.Put(ctx, key, strings.NewReader("data of "+key), o); err != nil {
			t.Fatalf("Put(%s, %s): %v", key, ct, err)
		}
	}
	put("plain", "", blob.PutOptions{})
	put("replaced", "text/plain", blob.PutOptions{})
	put("replaced", blob.DefaultContentType, blob.PutOptions{})
	put("kept", "text/plain", blob.PutOptions{})
	cctx, cancel := context.WithCancel(ctx)
	if _, err := b.Put(cctx, "kept", &cancelAtEOF{data: "new", cancel: cancel}, blob.PutOptions{}); err == nil {
		t.Fatal("Put with the context cancelled at EOF succeeded")
	}
	if err := os.WriteFile(filepath.Join(dir, "stray.attrs"), []byte(`{"user.content_type":"text/html"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	put("stray", "", blob.PutOptions{IfNotExist: true})

	plain, err := fileblob.OpenBucket(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for key, want := range map[string]string{"plain": blob.DefaultContentType, "replaced": blob.DefaultContentType,
		"kept": "text/plain", "stray": blob.DefaultContentType} {
		if st, err := b.Stat(ctx, key); err != nil || st.ContentType != want {
			t.Errorf("Stat(%s) = %+v, %v; want %s", key, st, err, want)
		}
		if a, err := plain.Attributes(ctx, key); err != nil || a.ContentType != want {
			t.Errorf("fileblob reads %s as %v, %v; want %s", key, a, err, want)
		}
	}
	if names := filesIn(t, dir); strings.Join(names, ",") != "kept,kept.attrs,plain,replaced,stray" {
		t.Errorf("files on disk %v, want a sidecar for kept only", names)
	}
}

// filesIn lists the names of dir's entries, sorted.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
