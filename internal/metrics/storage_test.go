package metrics

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	_ "modernc.org/sqlite"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
)

func TestOutcome(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, OutcomeOK},
		{fmt.Errorf("get: %w", decagon.ErrNotFound), OutcomeNotFound},
		{fmt.Errorf("create: %w", decagon.ErrConflict), OutcomeConflict},
		{fmt.Errorf("list: %w", context.Canceled), OutcomeCanceled},
		{errors.New("connection refused"), OutcomeError},
		{context.DeadlineExceeded, OutcomeError},
	}
	for _, c := range cases {
		if got := Outcome(c.err); got != c.want {
			t.Errorf("Outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestStorage(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewStorage(reg)
	s.ObserveDB("tests.get", 2*time.Millisecond, nil)
	s.ObserveDB("tests.get", time.Millisecond, decagon.ErrNotFound)
	s.ObserveBlob("put", 5*time.Millisecond, errors.New("boom"))
	got := series(t, reg, "decagon_db_query_duration_seconds")
	if len(got) != 2 || !contains(got, "operation=tests.get,outcome=ok") || !contains(got, "operation=tests.get,outcome=not_found") {
		t.Fatalf("db series %v", got)
	}
	if got := series(t, reg, "decagon_blob_operation_duration_seconds"); len(got) != 1 || got[0] != "operation=put,outcome=error" {
		t.Fatalf("blob series %v", got)
	}
}

// The pool collector reads real pools: database/sql over SQLite, and pgxpool over PostgreSQL.
func TestPoolCollector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(3)
	conn, err := db.Conn(ctx) // held: one in use
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewPoolCollector(func() []PoolStats {
		return []PoolStats{SQLDBStats("sqlite", db.Stats()), PgxPoolStats("postgres", pool.Stat())}
	}))
	want := `
# HELP decagon_db_pool_max_connections The pool's connection limit (0: none).
# TYPE decagon_db_pool_max_connections gauge
decagon_db_pool_max_connections{pool="postgres"} %d
decagon_db_pool_max_connections{pool="sqlite"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(want, pool.Config().MaxConns)), "decagon_db_pool_max_connections"); err != nil {
		t.Fatal(err)
	}
	conns := series(t, reg, "decagon_db_pool_connections")
	for _, s := range []string{"pool=sqlite,state=in_use", "pool=postgres,state=idle", "pool=postgres,state=constructing"} {
		if !contains(conns, s) {
			t.Fatalf("no %s in %v", s, conns)
		}
	}
	if n, _ := testutil.GatherAndCount(reg, "decagon_db_pool_acquires_total"); n != 1 {
		t.Fatalf("acquires series: %d, want 1 (pgx only)", n)
	}
	if v := gaugeValue(t, reg, "decagon_db_pool_connections", "pool=sqlite,state=in_use"); v != 1 {
		t.Fatalf("sqlite in use = %v, want 1", v)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name, labels string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				if labelString(m) == labels {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s}", name, labels)
	return 0
}

// Every series decagon defines passes promlint (units, _total, help).
func TestLint(t *testing.T) {
	reg := NewRegistry("test")
	NewHTTP(reg)
	NewEdge(reg, EdgeConfig{Routes: []string{"/test"}, TargetGroups: []string{"tests"}}).Observe(EdgeRequest{Method: "GET", Route: "/test", TargetGroup: "tests", Status: 200, Attempts: 1})
	NewWAF(reg, func() WAFStats { return WAFStats{} })
	NewStorage(reg).ObserveDB("tests.get", time.Millisecond, nil)
	reg.MustRegister(NewTargetCollector(func() []Target { return []Target{{Group: "tests", ID: "tests-1", State: "healthy"}} }))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestEMF(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "tests")
	e.now = func() time.Time { return time.UnixMilli(1700000000123) }
	h := e.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/401":
			w.WriteHeader(401)
		case "/403":
			w.WriteHeader(403)
		case "/429":
			w.WriteHeader(429)
		case "/404":
			w.WriteHeader(404)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	for _, p := range []string{"/", "/", "/500", "/401", "/403", "/429", "/404"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	e.ObserveDB("tests.get", time.Millisecond, errors.New("connection reset"))
	e.ObserveDB("tests.get", time.Millisecond, decagon.ErrNotFound) // an answer, not an error
	e.ObserveBlob("put", time.Millisecond, errors.New("timeout"))
	e.Add("NotAMetric", 5)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil { // the counts were reset: zeros, still every metric
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	type metricDef struct{ Name, Unit string }
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []metricDef
			}
		} `json:"_aws"`
		Service string
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.AWS.Timestamp != 1700000000123 || line.Service != "tests" || len(line.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("line %s", lines[0])
	}
	d := line.AWS.CloudWatchMetrics[0]
	if d.Namespace != EMFNamespace || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 1 || d.Dimensions[0][0] != "Service" {
		t.Fatalf("directive %+v", d)
	}
	var values map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &values)
	want := map[string]float64{EMFRequests: 7, EMFServerErrors: 1, EMFAuthFailures: 2, EMFThrottled: 1, EMFClientErrors: 1, EMFDatabaseErrors: 1, EMFBlobErrors: 1}
	if len(d.Metrics) != len(want) {
		t.Fatalf("metrics %v", d.Metrics)
	}
	for _, m := range d.Metrics {
		// Every declared metric is a top-level member with a number, as EMF requires.
		if m.Unit != "Count" || values[m.Name] != want[m.Name] {
			t.Errorf("%s: %v (%s), want %v", m.Name, values[m.Name], m.Unit, want[m.Name])
		}
	}
	var second map[string]any
	_ = json.Unmarshal([]byte(lines[1]), &second)
	for name := range want {
		if second[name] != float64(0) {
			t.Errorf("second flush %s = %v, want 0", name, second[name])
		}
	}
}
