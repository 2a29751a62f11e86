package health

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func get(t *testing.T, c *Checker) (int, Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health-check", nil))
	var rep Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	return rec.Code, rep
}

func TestCheckerStates(t *testing.T) {
	var down atomic.Bool
	c := New(map[string]Check{
		"database": func(context.Context) error {
			if down.Load() {
				return errors.New("down")
			}
			return nil
		},
	}, 0, time.Second, quiet)

	if code, rep := get(t, c); code != 200 || rep.Status != "ok" || rep.Checks["database"] != "ok" {
		t.Fatalf("healthy: %d %+v", code, rep)
	}
	down.Store(true)
	if code, rep := get(t, c); code != 503 || rep.Status != "failing" || rep.Checks["database"] != "failing" {
		t.Fatalf("failing: %d %+v", code, rep)
	}
	down.Store(false)
	c.Drain()
	if code, rep := get(t, c); code != 503 || rep.Status != "draining" {
		t.Fatalf("draining: %d %+v", code, rep)
	}
}

func TestCheckerTimeout(t *testing.T) {
	c := New(map[string]Check{
		"slow": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
	}, 0, 50*time.Millisecond, quiet)
	start := time.Now()
	code, rep := get(t, c)
	if code != 503 || rep.Checks["slow"] != "failing" {
		t.Fatalf("%d %+v", code, rep)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("check not bounded by its timeout: %v", d)
	}
}

// A flood of health checks within the cache lifetime runs the dependency check once.
func TestCheckerCaches(t *testing.T) {
	var calls atomic.Int64
	c := New(map[string]Check{
		"database": func(context.Context) error { calls.Add(1); return nil },
	}, time.Minute, time.Second, quiet)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { c.Report(context.Background()) })
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("check ran %d times, want 1", n)
	}
}
