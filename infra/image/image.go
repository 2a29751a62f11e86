// Package image assembles decagon's service image in Go, without a Docker daemon: the static
// decagon binary in one layer, with what a distroless static base gives (a nonroot user 65532,
// CA certificates, /tmp), on an empty base or on a base image the caller pulled. It writes the
// image to an OCI layout or pushes it to a registry and reports its digest, which the CDK app
// pins the task definitions to.
//
// It may import go-containerregistry and the standard library; it knows nothing of CDK.
package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Nonroot is distroless's unprivileged user and group ID, which the image runs as.
const Nonroot = 65532

// Entrypoint is where the binary lands in the image and what the image runs.
const Entrypoint = "/decagon"

// DefaultCACerts is where Debian-like build hosts keep the CA bundle the image carries.
const DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"

// Config is what an image is built from.
type Config struct {
	// Binary is the path of the static linux/amd64 decagon binary
	// (CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath ./cmd/decagon).
	Binary string
	// Ports are the container ports the image exposes (decagon.yaml's services' ports).
	Ports []int
	// CACerts is the CA bundle copied to /etc/ssl/certs/ca-certificates.crt; DefaultCACerts
	// when empty. Without a base image the services need it to reach AWS over TLS.
	CACerts string
	// Base is the image the layer goes on; an empty image (scratch) when nil.
	Base v1.Image
	// Version and Revision become OCI labels (org.opencontainers.image.version, .revision).
	Version, Revision string
	// Created is the image's creation time; the Unix epoch when zero, so that the same binary
	// gives the same digest (a re-push is then a no-op).
	Created time.Time
}

// Build assembles the image: the base (or scratch), one layer with /decagon, the nonroot user
// and the CA bundle, and a config that runs /decagon as 65532:65532 with the ports exposed.
func Build(cfg Config) (v1.Image, error) {
	if len(cfg.Ports) == 0 {
		return nil, errors.New("image: no port to expose")
	}
	bin, err := os.ReadFile(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: read binary: %w", err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		return nil, fmt.Errorf("image: %s is not an ELF binary (build it with GOOS=linux)", cfg.Binary)
	}
	caPath := cfg.CACerts
	if caPath == "" {
		caPath = DefaultCACerts
	}
	ca, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("image: read CA certificates: %w", err)
	}
	layerTar, err := layerBytes(bin, ca, cfg.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	base := cfg.Base
	if base == nil {
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		CreatedBy: "decagon infra/image: " + Entrypoint + ", nonroot user, CA certificates",
		Created:   v1.Time{Time: cfg.Created.UTC()},
	}})
	if err != nil {
		return nil, fmt.Errorf("image: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: cfg.Created.UTC()}
	c := &cf.Config
	c.Entrypoint = []string{Entrypoint}
	c.Cmd = []string{"serve", "tests"} // each task definition sets its own command
	c.User = strconv.Itoa(Nonroot) + ":" + strconv.Itoa(Nonroot)
	c.WorkingDir = "/"
	c.Env = mergeEnv(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
	c.ExposedPorts = map[string]struct{}{}
	for _, p := range cfg.Ports {
		c.ExposedPorts[fmt.Sprintf("%d/tcp", p)] = struct{}{}
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.title":       "decagon",
		"org.opencontainers.image.description": "decagon services: decagon serve <service>",
		"org.opencontainers.image.version":     cfg.Version,
		"org.opencontainers.image.revision":    cfg.Revision,
		"org.opencontainers.image.created":     cfg.Created.UTC().Format(time.RFC3339),
	} {
		if v != "" {
			c.Labels[k] = v
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: set config: %w", err)
	}
	return img, nil
}

// passwd and group are distroless static's: root, nobody and nonroot.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
)

// layerBytes is the layer's tar: directories first, every entry owned by root except the
// nonroot home, fixed times so that the digest depends on the contents only.
func layerBytes(bin, ca []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		name     string
		mode     int64
		uid      int
		contents []byte
		dir      bool
	}{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: Nonroot, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "etc/passwd", mode: 0o644, contents: []byte(passwd)},
		{name: "etc/group", mode: 0o644, contents: []byte(group)},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, contents: ca},
		{name: Entrypoint[1:], mode: 0o755, contents: bin},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime.UTC(), Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.contents))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image: tar: %w", err)
	}
	return buf.Bytes(), nil
}

// mergeEnv sets kv ("NAME=value") in env, replacing a base image's value for NAME.
func mergeEnv(env []string, kv string) []string {
	name := kv[:bytes.IndexByte([]byte(kv), '=')+1]
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool { return len(e) >= len(name) && e[:len(name)] == name })
	return append(env, kv)
}
