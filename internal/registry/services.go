package registry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/decagon/decagon/internal/health"
	"github.com/decagon/decagon/internal/records/recordsapi"
	"github.com/decagon/decagon/internal/telemetry/instrument"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
)

// Names are the services `decagon serve` runs, by the names decagon.yaml gives them.
var Names = []string{"tests", "uploads"}

// BlobPrefix is the path under which the uploads service serves the directory store's signed
// URLs; a directory store's public URL is the API's base URL + BlobPrefix.
const BlobPrefix = uploadsapi.BlobPrefix

// purgeEvery is how often the tests service drops expired idempotency keys.
const purgeEvery = time.Hour

// add adds the named service's routes, health checks and housekeeping to p.
func (p *parts) add(name string, d Deps) error {
	switch name {
	case "tests":
		th := &recordsapi.Handler{Store: instrument.Tests(d.DB.Tests(), d.DB.Backend(), d.Observe.dbObservers()...)}
		p.routes = append(p.routes, th.Routes())
		p.loops = append(p.loops, func(ctx context.Context) { th.PurgeLoop(ctx, purgeEvery, d.Logger) })
	case "uploads":
		if d.Bucket == nil {
			return errors.New("registry: uploads needs an object store")
		}
		p.checks["blob"] = d.Bucket.Ping
		uh := &uploadsapi.Handler{Store: instrument.Uploads(d.DB.Uploads(), d.DB.Backend(), d.Observe.dbObservers()...),
			Blobs: instrument.Bucket(d.Bucket, d.Observe.blobObservers()...), MaxUpload: d.MaxUpload}
		p.routes = append(p.routes, uh.Routes())
	default:
		return unknown(name)
	}
	return nil
}

// parts are what Build assembles.
type parts struct {
	routes []map[string]http.Handler
	checks map[string]health.Check
	loops  []func(context.Context)
}

// DefaultMaxUpload is the uploads service's default limit for a direct upload.
const DefaultMaxUpload = uploads.DefaultMaxUpload
