package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// The command exposes decagon.yaml's ports and prints the digest of the image it wrote.
func TestRunLayout(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the image is linux/amd64")
	}
	bin := filepath.Join(t.TempDir(), "decagon")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/decagon")
	build.Dir = filepath.Join("..", "..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-binary", bin, "-topology", filepath.Join("..", "..", "..", "decagon.yaml"), "-layout", dir}, strings.NewReader(""), &out)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := v1.NewHash(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("stdout %q is not a digest: %v", out.String(), err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(digest)
	if err != nil {
		t.Fatalf("printed digest %s is not in the layout: %v", digest, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cf.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want decagon.yaml's 8080", cf.Config.ExposedPorts)
	}
	if err := run(context.Background(), []string{"-binary", bin}, strings.NewReader(""), &out); err == nil {
		t.Error("run without -layout or -repository succeeded")
	}
}
