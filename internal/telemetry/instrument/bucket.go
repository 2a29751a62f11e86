package instrument

import (
	"context"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
)

// Bucket wraps the uploads service's object store. NewReader is timed to the first byte being
// available (the open), not to the end of the caller's read.
func Bucket(b uploadsapi.Bucket, obs ...BlobObserver) uploadsapi.Bucket {
	return bucket{b: b, obs: obs}
}

type bucket struct {
	b   uploadsapi.Bucket
	obs []BlobObserver
}

func blobCall(ctx context.Context, op string) call {
	return begin(ctx, "blob "+op, attribute.String("blob.operation", op))
}

func (b bucket) observe(op string, d time.Duration, err error) {
	for _, o := range b.obs {
		o.ObserveBlob(op, d, err)
	}
}

func (b bucket) Put(ctx context.Context, key string, r io.Reader, o blob.PutOptions) (int64, error) {
	c := blobCall(ctx, "put")
	n, err := b.b.Put(c.ctx, key, r, o)
	b.observe("put", c.end(err), err)
	return n, err
}

func (b bucket) NewReader(ctx context.Context, key string) (*blob.Reader, error) {
	c := blobCall(ctx, "get")
	r, err := b.b.NewReader(c.ctx, key)
	b.observe("get", c.end(err), err)
	return r, err
}

func (b bucket) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	c := blobCall(ctx, "stat")
	a, err := b.b.Stat(c.ctx, key)
	b.observe("stat", c.end(err), err)
	return a, err
}

func (b bucket) Delete(ctx context.Context, key string) error {
	c := blobCall(ctx, "delete")
	err := b.b.Delete(c.ctx, key)
	b.observe("delete", c.end(err), err)
	return err
}

func (b bucket) SignedURL(ctx context.Context, key string, o blob.SignOptions) (blob.SignedURL, error) {
	c := blobCall(ctx, "sign")
	u, err := b.b.SignedURL(c.ctx, key, o)
	b.observe("sign", c.end(err), err)
	return u, err
}

func (b bucket) SignedHandler(prefix string, gate blob.PutGate) http.Handler {
	return b.b.SignedHandler(prefix, gate)
}
