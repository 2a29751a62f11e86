// Package uploadsapi is the HTTP adapter of internal/uploads: the /upload routes of
// api/openapi.yaml, multipart and raw direct uploads, content sniffing, presigned PUTs and
// signed downloads; it refuses the directory store's signed PUTs for uploads that are gone
// (gate.go) and runs the reaper of abandoned ones (ReapLoop). Its handlers return errors
// (decagon errors or problems); web.WriteError answers them, so no detail here is ever built
// from an error's text.
//
// It may import internal/uploads, internal/listing, internal/blob, internal/service,
// internal/web, internal/problem and the standard library; never internal/store, internal/edge
// or internal/balancer.
package uploadsapi

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

const (
	defaultPresignTTL  = 15 * time.Minute
	defaultDownloadTTL = 5 * time.Minute
	// BlobPrefix is where the file store's signed URLs are served.
	BlobPrefix = "/upload/_blob/"
)

// Bucket is what the service needs of the object store; *blob.Bucket implements it.
type Bucket interface {
	Put(ctx context.Context, key string, r io.Reader, o blob.PutOptions) (int64, error)
	NewReader(ctx context.Context, key string) (*blob.Reader, error)
	Stat(ctx context.Context, key string) (blob.Attrs, error)
	Delete(ctx context.Context, key string) error
	SignedURL(ctx context.Context, key string, o blob.SignOptions) (blob.SignedURL, error)
	SignedHandler(prefix string, gate blob.PutGate) http.Handler
}

// Handler serves the uploads API.
type Handler struct {
	Store uploads.Store
	Blobs Bucket
	// MaxUpload bounds a direct upload's file; 0 means uploads.DefaultMaxUpload.
	MaxUpload int64
	// MaxPresignedSize bounds the size a presign announces (--max-presigned-size); 0 means
	// uploads.DefaultMaxPresignedSize. Values above uploads.MaxPresignSize (S3's single-PUT
	// limit) are held to it.
	MaxPresignedSize int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Routes returns the handlers keyed by ServeMux pattern; each is an operation of
// api/openapi.yaml.
func (h *Handler) Routes() map[string]http.Handler {
	signed := h.Blobs.SignedHandler(BlobPrefix, h.admitPut)
	return map[string]http.Handler{
		"POST /upload":                                  web.Handler(h.create),
		"GET /upload":                                   service.List("uploads", h.listUploads, uploads.Upload.Position),
		"POST /upload/presign":                          web.Handler(h.presign),
		"POST /upload/{upload_id}/complete":             web.Handler(h.complete),
		"GET /upload/{upload_id}":                       web.Handler(h.get),
		"DELETE /upload/{upload_id}":                    web.Handler(h.delete),
		"GET /upload/_blob/uploads/{owner}/{upload_id}": signed,
		"PUT /upload/_blob/uploads/{owner}/{upload_id}": signed,
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) maxPresignedSize() int64 {
	if h.MaxPresignedSize > 0 && h.MaxPresignedSize < uploads.MaxPresignSize {
		return h.MaxPresignedSize
	}
	return uploads.MaxPresignSize
}

func (h *Handler) maxUpload() int64 {
	if h.MaxUpload > 0 {
		return h.MaxUpload
	}
	return uploads.DefaultMaxUpload
}

// removeObject deletes an object the request could not keep, even if the client went away.
func (h *Handler) removeObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = h.Blobs.Delete(ctx, key)
}
