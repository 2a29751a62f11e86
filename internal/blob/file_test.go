package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/decagon/decagon/internal/blob"
)

// TestFileSidecar checks the sidecar the file backend writes itself (instead of fileblob's
// MD5-hashing writer): a plain fileblob bucket on the same directory reads the content type from
// it, no temporary file is left, and a write refused by IfNotExist leaves the existing object's
// content type as it was.
func TestFileSidecar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := blob.Open(ctx, "file://"+filepath.ToSlash(dir), blob.Options{URLSecret: secret, PublicURL: "http://127.0.0.1:1/b/"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Put(ctx, "a/b/obj.json", strings.NewReader(`{"x":1}`), blob.PutOptions{ContentType: "application/json; charset=utf-8"}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Put(ctx, "a/b/obj.json", strings.NewReader("other"), blob.PutOptions{ContentType: "text/plain", IfNotExist: true})
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
