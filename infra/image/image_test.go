package image

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// buildDecagon builds the static decagon binary from the main module, as `make deploy` does.
func buildDecagon(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the image is linux/amd64; the extracted binary must run here")
	}
	bin := filepath.Join(t.TempDir(), "decagon")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/decagon")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/decagon: %v\n%s", err, out)
	}
	return bin
}

// The image is built into an OCI layout (no daemon, no push) and read back from it: what ECS
// runs is checked there, and the binary taken out of the layer runs.
func TestBuildLayout(t *testing.T) {
	bin := buildDecagon(t)
	img, err := Build(Config{Binary: bin, Ports: []int{8080}, Version: "v1.2.3", Revision: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	digest, err := WriteLayout(dir, img, "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Image(digest)
	if err != nil {
		t.Fatalf("the layout has no image %s: %v", digest, err)
	}
	mt, _ := got.MediaType()
	if !strings.Contains(string(mt), "oci") {
		t.Errorf("manifest media type %s, want OCI", mt)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	rows := []struct {
		what      string
		got, want any
	}{
		{"entrypoint", strings.Join(c.Entrypoint, " "), "/decagon"},
		{"user", c.User, "65532:65532"},
		{"os/arch", cf.OS + "/" + cf.Architecture, "linux/amd64"},
		{"exposed 8080", len(c.ExposedPorts) == 1 && c.ExposedPorts["8080/tcp"] == struct{}{}, true},
		{"version label", c.Labels["org.opencontainers.image.version"], "v1.2.3"},
		{"revision label", c.Labels["org.opencontainers.image.revision"], "abc123"},
		{"title label", c.Labels["org.opencontainers.image.title"], "decagon"},
	}
	for _, r := range rows {
		if r.got != r.want {
			t.Errorf("%s = %v, want %v", r.what, r.got, r.want)
		}
	}
	if strings.HasPrefix(c.User, "0") || c.User == "" || c.User == "root" {
		t.Errorf("user %q is root", c.User)
	}

	// The filesystem: the binary, the nonroot user, CA certificates, /tmp.
	rc := mutate.Extract(got)
	defer rc.Close()
	root := t.TempDir()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[strings.Trim(h.Name, "/")] = h
		if h.Name == "decagon" {
			f, err := os.OpenFile(filepath.Join(root, "decagon"), os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	for name, mode := range map[string]int64{"decagon": 0o755, "etc/passwd": 0o644, "etc/group": 0o644, "etc/ssl/certs/ca-certificates.crt": 0o644, "tmp": 0o1777} {
		h, ok := files[name]
		if !ok {
			t.Errorf("the layer lacks /%s", name)
			continue
		}
		if h.Mode != mode {
			t.Errorf("/%s mode %o, want %o", name, h.Mode, mode)
		}
	}
	if !strings.Contains(passwd, "nonroot:x:65532:65532:") {
		t.Error("/etc/passwd has no nonroot 65532")
	}
	out, err := exec.Command(filepath.Join(root, "decagon"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("the image's /decagon version: %v\n%s", err, out)
	}
	t.Logf("/decagon version: %s", strings.TrimSpace(string(out)))

	// Same binary, same digest: a re-push finds the tag in place.
	again, err := Build(Config{Binary: bin, Ports: []int{8080}, Version: "v1.2.3", Revision: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	if d2, _ := again.Digest(); d2 != digest {
		t.Errorf("rebuild digest %s, want %s (the build is not reproducible)", d2, digest)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no port", Config{Binary: notELF}, "no port"},
		{"missing binary", Config{Binary: filepath.Join(dir, "nope"), Ports: []int{8080}}, "read binary"},
		{"not ELF", Config{Binary: notELF, Ports: []int{8080}}, "not an ELF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
