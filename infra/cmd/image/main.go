// Command image builds decagon's service image without a Docker daemon and writes it to an OCI
// layout or pushes it to the registry stack's ECR repository, printing the digest the app
// stack's task definitions are pinned to (`make deploy` runs it; see infra/README.md).
//
//	image -binary bin/decagon -layout out/oci                        # build only
//	aws ecr get-login-password | image -binary bin/decagon \
//	    -repository <RepositoryUri> -tag <tag> -password-stdin      # build and push
//
// It prints the digest ("sha256:...") alone on stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/decagon/decagon/infra/image"
	"github.com/decagon/decagon/internal/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	binary := fs.String("binary", filepath.Join("..", "bin", "decagon"), "the static linux/amd64 decagon binary")
	topo := fs.String("topology", filepath.Join("..", "decagon.yaml"), "decagon.yaml: the services' ports are exposed")
	caCerts := fs.String("ca-certs", image.DefaultCACerts, "the CA bundle copied into the image")
	base := fs.String("base", "", "an optional base image reference (e.g. gcr.io/distroless/static-debian12:nonroot); scratch when empty")
	layoutDir := fs.String("layout", "", "write the image to this OCI layout directory")
	repo := fs.String("repository", "", "push to this repository (the registry stack's RepositoryUri)")
	tag := fs.String("tag", "", "the tag to push under (tags are immutable); derived from the digest when empty")
	version := fs.String("version", "", "the org.opencontainers.image.version label")
	revision := fs.String("revision", "", "the org.opencontainers.image.revision label (the commit)")
	passwordStdin := fs.Bool("password-stdin", false, "read the registry password from stdin (user AWS: `aws ecr get-login-password`)")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on the whole build and push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *layoutDir == "" && *repo == "" {
		return errors.New("give -layout, -repository or both")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	t, err := topology.Load(*topo)
	if err != nil {
		return err
	}
	var ports []int
	for _, s := range t.Services {
		if !slices.Contains(ports, s.Port) {
			ports = append(ports, s.Port)
		}
	}
	cfg := image.Config{Binary: *binary, Ports: ports, CACerts: *caCerts, Version: *version, Revision: *revision}
	if *base != "" {
		if cfg.Base, err = crane.Pull(*base, crane.WithContext(ctx), crane.WithPlatform(&v1.Platform{OS: "linux", Architecture: "amd64"})); err != nil {
			return fmt.Errorf("pull base %s: %w", *base, err)
		}
	}
	img, err := image.Build(cfg)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if *layoutDir != "" {
		if _, err := image.WriteLayout(*layoutDir, img, *tag); err != nil {
			return err
		}
	}
	if *repo != "" {
		var auth authn.Authenticator
		if *passwordStdin {
			pw, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
			if err != nil {
				return fmt.Errorf("read password: %w", err)
			}
			auth = &authn.Basic{Username: "AWS", Password: strings.TrimSpace(string(pw))}
		}
		if *tag == "" {
			*tag = "sha256-" + digest.Hex[:16]
		}
		if digest, err = image.Push(ctx, *repo, *tag, img, auth); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, digest.String())
	return nil
}
