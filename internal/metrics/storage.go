package metrics

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon"
)

// Outcomes of a storage call, the values of the outcome label.
const (
	OutcomeOK       = "ok"
	OutcomeNotFound = "not_found"
	OutcomeConflict = "conflict"
	OutcomeCanceled = "canceled"
	OutcomeError    = "error"
)

// Outcome classifies a storage call's error: the domain errors a store returns on purpose are
// not failures of the database.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, decagon.ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, decagon.ErrConflict), decagon.ErrorCode(err) == decagon.EUnprocessable:
		return OutcomeConflict
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	}
	return OutcomeError
}

// Storage measures calls to the database and the object store:
// decagon_db_query_duration_seconds{operation,outcome} and
// decagon_blob_operation_duration_seconds{operation,outcome}. Operations are the stores'
// method names ("tests.create", "put"), a closed set.
type Storage struct {
	db, blob *prometheus.HistogramVec
}

// StorageBuckets are the storage latency histogram's upper bounds in seconds.
var StorageBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewStorage registers the storage series with reg.
func NewStorage(reg prometheus.Registerer) *Storage {
	s := &Storage{
		db: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "db", Name: "query_duration_seconds",
			Help:    "Duration of database calls, by store operation and outcome.",
			Buckets: StorageBuckets,
		}, []string{"operation", "outcome"}),
		blob: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "blob", Name: "operation_duration_seconds",
			Help:    "Duration of object store calls, by operation and outcome.",
			Buckets: StorageBuckets,
		}, []string{"operation", "outcome"}),
	}
	reg.MustRegister(s.db, s.blob)
	return s
}

// ObserveDB records one database call.
func (s *Storage) ObserveDB(op string, d time.Duration, err error) {
	s.db.WithLabelValues(op, Outcome(err)).Observe(d.Seconds())
}

// ObserveBlob records one object store call.
func (s *Storage) ObserveBlob(op string, d time.Duration, err error) {
	s.blob.WithLabelValues(op, Outcome(err)).Observe(d.Seconds())
}

// PoolStats are a connection pool's figures, from pgxpool or database/sql alike.
type PoolStats struct {
	// Pool names the pool ("postgres"; "sqlite-writer", "sqlite-reader").
	Pool                   string
	InUse, Idle, Max       int64
	WaitCount              int64
	WaitDuration           time.Duration
	Constructing, Acquires int64
	hasAcquires, hasConstr bool
}

// PgxPoolStats converts a pgxpool.Stat.
func PgxPoolStats(pool string, s *pgxpool.Stat) PoolStats {
	return PoolStats{Pool: pool, InUse: int64(s.AcquiredConns()), Idle: int64(s.IdleConns()), Max: int64(s.MaxConns()),
		WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime(),
		Constructing: int64(s.ConstructingConns()), Acquires: s.AcquireCount(), hasAcquires: true, hasConstr: true}
}

// SQLDBStats converts a database/sql DBStats.
func SQLDBStats(pool string, s sql.DBStats) PoolStats {
	return PoolStats{Pool: pool, InUse: int64(s.InUse), Idle: int64(s.Idle), Max: int64(s.MaxOpenConnections),
		WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

// PoolCollector reports connection pools at scrape time: decagon_db_pool_connections{pool,
// state} (in_use, idle, constructing), decagon_db_pool_max_connections{pool},
// decagon_db_pool_waits_total{pool}, decagon_db_pool_wait_seconds_total{pool} and, for pgx,
// decagon_db_pool_acquires_total{pool}.
type PoolCollector struct {
	stats                                    func() []PoolStats
	conns, max, waits, waitSeconds, acquires *prometheus.Desc
}

// NewPoolCollector returns a collector calling stats at every scrape. Register it with a
// registry.
func NewPoolCollector(stats func() []PoolStats) *PoolCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_db_pool_"+name, help, append([]string{"pool"}, labels...), nil)
	}
	return &PoolCollector{stats: stats,
		conns:       d("connections", "Connections of the pool, by state: in_use, idle, constructing.", "state"),
		max:         d("max_connections", "The pool's connection limit (0: none)."),
		waits:       d("waits_total", "Acquisitions that had to wait for a connection."),
		waitSeconds: d("wait_seconds_total", "Time spent waiting for a connection."),
		acquires:    d("acquires_total", "Connections acquired from the pool."),
	}
}

// Describe sends the descriptors.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.max, c.waits, c.waitSeconds, c.acquires} {
		ch <- d
	}
}

// Collect reads the pools.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	g, ctr := prometheus.GaugeValue, prometheus.CounterValue
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.conns, g, float64(s.InUse), s.Pool, "in_use")
		ch <- prometheus.MustNewConstMetric(c.conns, g, float64(s.Idle), s.Pool, "idle")
		if s.hasConstr {
			ch <- prometheus.MustNewConstMetric(c.conns, g, float64(s.Constructing), s.Pool, "constructing")
		}
		ch <- prometheus.MustNewConstMetric(c.max, g, float64(s.Max), s.Pool)
		ch <- prometheus.MustNewConstMetric(c.waits, ctr, float64(s.WaitCount), s.Pool)
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, ctr, s.WaitDuration.Seconds(), s.Pool)
		if s.hasAcquires {
			ch <- prometheus.MustNewConstMetric(c.acquires, ctr, float64(s.Acquires), s.Pool)
		}
	}
}
