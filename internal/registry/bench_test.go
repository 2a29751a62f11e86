//go:build unix

package registry_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
	"github.com/decagon/decagon/internal/telemetry"
)

// The service hot path, measured against a minimal handler in the same run:
//
//	CI=true go test -run '^$' -bench 'ServeGetTest|ServePostTest' -benchmem -count 6 ./internal/registry/
//
// Each backend has three sub-benchmarks, run one after the other in every round, so that the
// ratio between them is a same-run figure on a shared machine:
//
//   - minimal: one pool, one indexed SELECT (or one INSERT), JSON out; no token, no logs;
//   - decagon: the handler `decagon serve tests` runs, built by registry.Build as Serve builds
//     it (no --admin-addr: no Prometheus series; no OTLP endpoint: the no-op tracer provider),
//     with a real RS256 token, the JSON access log written to the null device, request IDs and
//     trace context;
//   - decagon+metrics (GET only): the same with the Prometheus middleware of --admin-addr.
//
// Requests go over loopback HTTP through httptest servers, from GOMAXPROCS×4 client
// goroutines, so ns/op is the inverse of the throughput. cpu-ns/op is the process's CPU time
// (user + system, client and server) per request: on a shared machine it moves less than the
// wall time. PostgreSQL's own CPU is in neither.

// BenchmarkServeGetTest measures GET /test/{test_id}.
func BenchmarkServeGetTest(b *testing.B) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		b.Run(backend, func(b *testing.B) {
			env := newBenchEnv(b, backend)
			rec := env.seed(b)
			path := "/test/" + rec.ID
			b.Run("minimal", func(b *testing.B) { env.run(b, env.minimal, http.MethodGet, path, nil, false) })
			b.Run("decagon", func(b *testing.B) { env.run(b, env.decagon, http.MethodGet, path, nil, true) })
			b.Run("decagon+metrics", func(b *testing.B) { env.run(b, env.metered, http.MethodGet, path, nil, true) })
		})
	}
}

// BenchmarkServePostTest measures POST /test.
func BenchmarkServePostTest(b *testing.B) {
	body := []byte(`{"name":"bench","data":{"colour":"blue","size":42,"tags":["a","b"]}}`)
	for _, backend := range []string{store.SQLite, store.Postgres} {
		b.Run(backend, func(b *testing.B) {
			env := newBenchEnv(b, backend)
			b.Run("minimal", func(b *testing.B) { env.run(b, env.minimal, http.MethodPost, "/test", body, false) })
			b.Run("decagon", func(b *testing.B) { env.run(b, env.decagon, http.MethodPost, "/test", body, true) })
		})
	}
}

// benchEnv is one database with the three servers on it.
type benchEnv struct {
	db                        *store.DB
	owner, token              string
	minimal, decagon, metered *httptest.Server
	client                    *http.Client
}

func newBenchEnv(b *testing.B, backend string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	var dbURL string
	var minimal http.Handler
	switch backend {
	case store.Postgres:
		dbURL = pgtest.URL(b)
	default:
		dbURL = "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
	}
	db, err := store.OpenMigrated(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if backend == store.Postgres {
		minimal = minimalPostgres(b, dbURL)
	} else {
		minimal = minimalSQLite(b, dbURL)
	}

	// A real identity provider: RSA keys on disk, its JWKS served in the process.
	provider, err := idp.Open(b.TempDir(), idp.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := provider.SetIssuer(idp.LocalIssuer); err != nil {
		b.Fatal(err)
	}
	jwksClient, err := provider.HTTPClient(idp.LocalIssuer)
	if err != nil {
		b.Fatal(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { devnull.Close() })
	// The tracer provider `decagon serve` installs without an OTLP endpoint: a no-op.
	stopTraces, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "decagon-tests", Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stopTraces(context.Background()) })
	// The logger `decagon serve` makes (cmd/decagon newLogger), writing to the null device.
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(devnull, &slog.HandlerOptions{Level: slog.LevelInfo}))).
		With("service", "tests")
	v, err := auth.NewVerifier(auth.Config{Issuer: idp.LocalIssuer, ClientIDs: []string{provider.ClientID()},
		HTTPClient: jwksClient, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	token, err := provider.Mint(idp.MintOptions{User: "bench", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	// The signed-in user's access token, with the scope every operation accepts from a person.
	claims, err := v.Verify(ctx, token, auth.Requirement{Scopes: []string{idp.DefaultUserScope}})
	if err != nil {
		b.Fatal(err)
	}

	build := func(obs *registry.Observability) http.Handler {
		built, err := registry.Build([]string{"tests"}, registry.Deps{DB: db, Verifier: v, Logger: logger, Observe: obs})
		if err != nil {
			b.Fatal(err)
		}
		return built.Handler
	}
	env := &benchEnv{
		db: db, owner: claims.Subject, token: token,
		minimal: httptest.NewServer(minimal),
		decagon: httptest.NewServer(build(registry.NewObservability(false, "bench"))),
		metered: httptest.NewServer(build(registry.NewObservability(true, "bench"))),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
	}
	for _, s := range []*httptest.Server{env.minimal, env.decagon, env.metered} {
		b.Cleanup(s.Close)
	}
	return env
}

// seed stores the record the GET benchmarks read.
func (e *benchEnv) seed(b *testing.B) records.Record {
	b.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := records.Record{ID: uuid.Must(uuid.NewV7()).String(), Name: "bench", Owner: e.owner,
		Data: json.RawMessage(`{"colour":"blue","size":42,"tags":["a","b"]}`), CreatedAt: now, UpdatedAt: now}
	if _, _, err := e.db.Tests().Create(context.Background(), rec, nil); err != nil {
		b.Fatal(err)
	}
	return rec
}

// run sends the request from parallel clients and reports the process's CPU time per request.
func (e *benchEnv) run(b *testing.B, srv *httptest.Server, method, path string, body []byte, withToken bool) {
	want := http.StatusOK
	if method == http.MethodPost {
		want = http.StatusCreated
	}
	do := func() error {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if withToken {
			req.Header.Set("Authorization", "Bearer "+e.token)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != want {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
	if err := do(); err != nil { // warm: the JWKS, the pools, the statement caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(4)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := do(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user + system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// minimalRecord is what the minimal handlers answer: the record's fields as stored.
type minimalRecord struct {
	ID        string          `json:"test_id"`
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data"`
	Owner     string          `json:"owner"`
	CreatedAt any             `json:"created_at"`
	UpdatedAt any             `json:"updated_at"`
}

// minimalInput is the POST body the minimal handlers read.
type minimalInput struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

// minimalPostgres is the reference: one pgx pool (pgx's defaults), one indexed SELECT or one
// INSERT per request, JSON out; no token, no logs, no request IDs.
func minimalPostgres(b *testing.B, dbURL string) http.Handler {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test/{id}", func(w http.ResponseWriter, r *http.Request) {
		var rec minimalRecord
		var created, updated time.Time
		err := pool.QueryRow(r.Context(), `SELECT test_id, name, data, owner, created_at, updated_at FROM tests
			WHERE test_id = $1 AND ($2 = '' OR owner = $2)`, r.PathValue("id"), "").
			Scan(&rec.ID, &rec.Name, &rec.Data, &rec.Owner, &created, &updated)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		rec.CreatedAt, rec.UpdatedAt = created.UTC(), updated.UTC()
		writeMinimal(w, http.StatusOK, rec)
	})
	mux.HandleFunc("POST /test", func(w http.ResponseWriter, r *http.Request) {
		var in minimalInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		rec := minimalRecord{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, Data: in.Data, Owner: "bench", CreatedAt: now, UpdatedAt: now}
		if _, err := pool.Exec(r.Context(), `INSERT INTO tests (test_id, name, data, owner, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, rec.ID, rec.Name, []byte(rec.Data), rec.Owner, now, now); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Location", "/test/"+rec.ID)
		writeMinimal(w, http.StatusCreated, rec)
	})
	return mux
}

// minimalSQLite is the same over database/sql and modernc.org/sqlite on the service's file:
// a read pool and one writer connection with the durability the store has (WAL, synchronous
// FULL).
func minimalSQLite(b *testing.B, dbURL string) http.Handler {
	b.Helper()
	_, path, err := store.Parse(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	open := func(conns int) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)")
		if err != nil {
			b.Fatal(err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		b.Cleanup(func() { db.Close() })
		return db
	}
	read, write := open(4), open(1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test/{id}", func(w http.ResponseWriter, r *http.Request) {
		var rec minimalRecord
		var data sql.NullString
		var created, updated string
		err := read.QueryRowContext(r.Context(), `SELECT test_id, name, data, owner, created_at, updated_at FROM tests
			WHERE test_id = ?1 AND (?2 = '' OR owner = ?2)`, r.PathValue("id"), "").
			Scan(&rec.ID, &rec.Name, &data, &rec.Owner, &created, &updated)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		rec.Data, rec.CreatedAt, rec.UpdatedAt = json.RawMessage(data.String), created, updated
		writeMinimal(w, http.StatusOK, rec)
	})
	mux.HandleFunc("POST /test", func(w http.ResponseWriter, r *http.Request) {
		var in minimalInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		rec := minimalRecord{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, Data: in.Data, Owner: "bench", CreatedAt: now, UpdatedAt: now}
		if _, err := write.ExecContext(r.Context(), `INSERT INTO tests (test_id, name, data, owner, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)`, rec.ID, rec.Name, string(rec.Data), rec.Owner, now, now); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Location", "/test/"+rec.ID)
		writeMinimal(w, http.StatusCreated, rec)
	})
	return mux
}

func writeMinimal(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
