// Command start measures a task's start: from starting `decagon serve tests` on PostgreSQL
// whose schema is already migrated, to its first 200 on /health-check, the moment a load
// balancer's health check could first pass. It builds ./cmd/decagon (or uses -bin), migrates a
// fresh schema once, then starts the service -runs times, polling /health-check every
// millisecond, and prints each time, the median and the spread.
//
//	go run ./bench/start                       # 5 runs on $DECAGON_TEST_DATABASE_URL or local PostgreSQL
//	go run ./bench/start -runs 9 -bin ./decagon
//
// The schema is a fresh one (search_path), dropped at the end. The token issuer is never
// contacted: /health-check needs no token and the verifier fetches keys on first use.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	runs := flag.Int("runs", 5, "starts to measure")
	bin := flag.String("bin", "", "decagon binary (default: build ./cmd/decagon)")
	dbURL := flag.String("database-url", envOr("DECAGON_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL to start on")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on a start after this long")
	flag.Parse()
	if err := run(*runs, *bin, *dbURL, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(runs int, bin, base string, timeout time.Duration) error {
	dir, err := os.MkdirTemp("", "decagon-start-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "decagon")
		build := exec.Command("go", "build", "-o", bin, "./cmd/decagon")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	dbURL, drop, err := freshSchema(base)
	if err != nil {
		return err
	}
	defer drop()

	migrate := exec.Command(bin, "migrate", "--database-url", dbURL)
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %w\n%s", err, out)
	}
	var times []time.Duration
	for i := range runs {
		d, err := startOnce(bin, dbURL, dir, timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d: %v\n", i+1, d.Round(100*time.Microsecond))
		times = append(times, d)
	}
	slices.Sort(times)
	fmt.Printf("process start -> /health-check 200 on PostgreSQL (migrated), %d runs: median %v, min %v, max %v\n",
		runs, times[len(times)/2].Round(100*time.Microsecond), times[0].Round(100*time.Microsecond), times[len(times)-1].Round(100*time.Microsecond))
	return nil
}

// startOnce starts the service, waits for its first healthy answer, and stops it.
func startOnce(bin, dbURL, dir string, timeout time.Duration) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(bin, "serve", "tests", "--addr", addr, "--database-url", dbURL,
		"--auth-issuer", "http://127.0.0.1:9/pool", "--auth-client-id", "benchclient",
		"--data-dir", dir, "--drain", "0s", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	for time.Since(start) < timeout {
		resp, err := client.Get("http://" + addr + "/health-check")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, errors.New("no 200 from /health-check within the timeout")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// freshSchema creates a schema and returns base with its search_path set to it, and a function
// that drops it.
func freshSchema(base string) (string, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "bench_start_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
