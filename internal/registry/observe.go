package registry

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/telemetry/instrument"
)

// Observability is what a process measures. Every field may be nil: nothing is measured then.
type Observability struct {
	// Registry holds the Prometheus series, served at /metrics.
	Registry *prometheus.Registry
	HTTP     *metrics.HTTP
	Storage  *metrics.Storage
	// EMF writes CloudWatch Embedded Metric Format lines (--cloudwatch-emf).
	EMF *metrics.EMF
}

// NewObservability returns the Prometheus side, its build info naming version, when on, and
// nothing otherwise.
func NewObservability(on bool, version string) *Observability {
	if !on {
		return &Observability{}
	}
	reg := metrics.NewRegistry(version)
	return &Observability{Registry: reg, HTTP: metrics.NewHTTP(reg), Storage: metrics.NewStorage(reg)}
}

// dbObservers and blobObservers are told of every store call.
func (o *Observability) dbObservers() (out []instrument.DBObserver) {
	if o.Storage != nil {
		out = append(out, o.Storage)
	}
	if o.EMF != nil {
		out = append(out, o.EMF)
	}
	return out
}

func (o *Observability) blobObservers() (out []instrument.BlobObserver) {
	if o.Storage != nil {
		out = append(out, o.Storage)
	}
	if o.EMF != nil {
		out = append(out, o.EMF)
	}
	return out
}

// service wraps a service's handler: trace context, request metrics, EMF counts.
func (o *Observability) service(name string, patterns []string, h http.Handler) http.Handler {
	route := metrics.RoutesOf(patterns)
	if o.EMF != nil {
		h = o.EMF.Middleware(h)
	}
	if o.HTTP != nil {
		h = o.HTTP.Middleware(name, route, h)
	}
	return telemetry.Middleware(route, h)
}

// WatchPools reports db's connection pools.
func (o *Observability) WatchPools(db *store.DB) {
	if o.Registry == nil {
		return
	}
	o.Registry.MustRegister(metrics.NewPoolCollector(func() []metrics.PoolStats {
		p := db.Pools()
		if p.Postgres != nil {
			return []metrics.PoolStats{metrics.PgxPoolStats("postgres", p.Postgres)}
		}
		return []metrics.PoolStats{metrics.SQLDBStats("sqlite-write", p.SQLiteWrite), metrics.SQLDBStats("sqlite-read", p.SQLiteRead)}
	}))
}
