package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// WriteLayout writes img to an OCI image layout in dir (created if needed), tagged ref in the
// index's annotations, and returns its digest.
func WriteLayout(dir string, img v1.Image, ref string) (v1.Hash, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: layout %s: %w", dir, err)
	}
	opts := []layout.Option{}
	if ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("image: write layout: %w", err)
	}
	return img.Digest()
}

// Push pushes img to repository (an ECR repository URI, "<account>.dkr.ecr.<region>.amazonaws.com/<name>")
// under tag, and returns its digest. ECR tags are immutable here: when tag already names this
// digest the push is skipped, and when it names another image the push fails rather than move
// it. auth is authn.Anonymous-like basic credentials (AWS, `aws ecr get-login-password`) or
// nil for the default keychain (docker/podman credential helpers).
func Push(ctx context.Context, repository, tag string, img v1.Image, auth authn.Authenticator) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: digest: %w", err)
	}
	ref, err := name.NewTag(repository + ":" + tag)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: %w", err)
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if auth != nil {
		opts = append(opts, remote.WithAuth(auth))
	} else {
		opts = append(opts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	desc, err := remote.Head(ref, opts...)
	var terr *transport.Error
	switch {
	case err == nil && desc.Digest == digest:
		return digest, nil // already there
	case err == nil:
		return v1.Hash{}, fmt.Errorf("image: %s already names %s, not %s (tags are immutable: use another tag)", ref, desc.Digest, digest)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
	default:
		return v1.Hash{}, fmt.Errorf("image: look up %s: %w", ref, err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("image: push %s: %w", ref, err)
	}
	return digest, nil
}
