package blob_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/decagon/decagon/internal/blob"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := blob.Options{URLSecret: secret, PublicURL: "http://127.0.0.1:1/upload/_blob/"}
	cases := []struct {
		name, url string
		opts      blob.Options
		want      string
	}{
		{"http scheme", "http://bucket/x", good, "use s3://BUCKET"},
		{"gs scheme", "gs://bucket", good, "unsupported scheme"},
		{"no scheme", dir, good, "unsupported scheme"},
		{"relative file", "file://./rel", good, "host must be empty"},
		{"relative path", "file:rel/dir", good, "absolute directory"},
		{"file with query", "file://" + dir + "?create_dir=1", good, "no query"},
		{"file without secret", "file://" + dir, blob.Options{PublicURL: good.PublicURL}, "URL secret"},
		{"file short secret", "file://" + dir, blob.Options{URLSecret: secret[:16], PublicURL: good.PublicURL}, "need at least 32"},
		{"file without public URL", "file://" + dir, blob.Options{URLSecret: secret}, "PublicURL"},
		{"file relative public URL", "file://" + dir, blob.Options{URLSecret: secret, PublicURL: "/upload/_blob/"}, "absolute http(s)"},
		{"s3 without bucket", "s3:///?region=us-east-1", good, "bucket name"},
		{"s3 with path", "s3://b/prefix?region=us-east-1", good, "no path"},
		{"s3 unknown parameter", "s3://b?region=us-east-1&colour=red", good, `unknown query parameter "colour"`},
		{"s3 bad bool", "s3://b?region=us-east-1&use_path_style=maybe", good, "use_path_style"},
		{"secret in URL redacted", "ftp://user:hunter2@host/", good, "unsupported scheme"},
	}
	for _, c := range cases {
		b, err := blob.Open(context.Background(), c.url, c.opts)
		if err == nil {
			_ = b.Close()
			t.Errorf("%s: Open(%q) succeeded", c.name, c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: Open(%q) = %v, want it to mention %q", c.name, c.url, err, c.want)
		}
	}
}

func TestOpenFileCreatesPrivateDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "blobs")
	b, err := blob.Open(context.Background(), "file://"+dir, blob.Options{URLSecret: secret, PublicURL: "https://api.example.com/Test/upload/_blob"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir %s: %v, mode %v; want 0700", dir, err, fi.Mode())
	}
	if b.String() != "file://"+dir {
		t.Errorf("String() = %q", b.String())
	}
	su, err := b.SignedURL(context.Background(), "uploads/x", blob.SignOptions{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(su.URL, "https://api.example.com/Test/upload/_blob/uploads/x?token=") {
		t.Errorf("signed URL %q not under the public URL", su.URL)
	}
}

func TestOpenS3Parameters(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
	for _, u := range []string{
		"s3://bucket?region=eu-west-1",
		"s3://bucket?region=eu-west-1&endpoint=http://127.0.0.1:9000&use_path_style=true",
		"s3://bucket?region=eu-west-1&endpoint=http://127.0.0.1:9000&s3ForcePathStyle=true&hostname_immutable=true",
		"s3://bucket?region=eu-west-1&disable_https=true&request_checksum_calculation=when_required",
	} {
		b, err := blob.Open(context.Background(), u, blob.Options{S3Credentials: creds})
		if err != nil {
			t.Errorf("Open(%q): %v", u, err)
			continue
		}
		if b.String() != "s3://bucket" {
			t.Errorf("String() = %q", b.String())
		}
		_ = b.Close()
	}
}

// OpenConfig's defaults: a directory and a URL secret in the data dir, the secret made once and
// then shared; a directory store without a public URL, or with a short secret, is refused.
func TestOpenConfig(t *testing.T) {
	dir := t.TempDir()
	b, err := blob.OpenConfig(context.Background(), blob.Config{DataDir: dir, PublicURL: "http://127.0.0.1:8080/upload/_blob/"})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	first, err := blob.URLSecret("", dir)
	if err != nil || len(first) != 32 {
		t.Fatalf("secret %x %v", first, err)
	}
	if again, err := blob.URLSecret("", dir); err != nil || string(again) != string(first) {
		t.Fatalf("second read %x %v, want %x", again, err, first)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err != nil {
		t.Fatalf("default directory: %v", err)
	}
	for name, c := range map[string]blob.Config{
		"no public URL": {DataDir: dir},
		"short secret":  {DataDir: dir, PublicURL: "http://x/", Secret: "abcd"},
		"not hex":       {DataDir: dir, PublicURL: "http://x/", Secret: strings.Repeat("zz", 32)},
	} {
		if b, err := blob.OpenConfig(context.Background(), c); err == nil {
			b.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
