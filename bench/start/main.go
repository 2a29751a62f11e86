// Command start measures a task's start: from starting `decagon serve tests` on PostgreSQL
// whose schema is already migrated, to its first 200 on /health-check, the moment a load
// balancer's health check could first pass. It builds ./cmd/decagon (or uses -bin), migrates a
// fresh schema once, then starts the service -runs times, polling /health-check every
// millisecond, and prints each time, the median and the spread.
//
//	go run ./bench/start                       # 5 runs on $DECAGON_TEST_DATABASE_URL or local PostgreSQL
//	go run ./bench/start -runs 9 -bin ./decagon
//	go run ./bench/start -cpus 0.25            # the service held to a Fargate task's CPU (cgroup, root)
//
// With -cpus the service runs in a CPU cgroup of its own (v1 cpu.cfs_quota_us or v2 cpu.max),
// created for the run and removed after it; where cgroups are not writable the run says so and
// measures without a limit.
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
	cpus := flag.Float64("cpus", 0, "hold the service to this many CPUs with a cgroup (0: no limit)")
	flag.Parse()
	if err := run(*runs, *bin, *dbURL, *timeout, *cpus); err != nil {
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

func run(runs int, bin, base string, timeout time.Duration, cpus float64) error {
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
	limit := "no CPU limit"
	var wrap []string
	if cpus > 0 {
		cg, remove, err := cpuCgroup(cpus)
		if err != nil {
			fmt.Printf("no CPU cgroup (%v): measuring without a limit\n", err)
		} else {
			defer remove()
			limit = fmt.Sprintf("%.2f CPU (cgroup)", cpus)
			// The shell puts itself into the cgroup, then becomes the service.
			wrap = []string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, cg}
		}
	}
	var times []time.Duration
	for i := range runs {
		d, err := startOnce(wrap, bin, dbURL, dir, timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d: %v\n", i+1, d.Round(100*time.Microsecond))
		times = append(times, d)
	}
	slices.Sort(times)
	fmt.Printf("process start -> /health-check 200 on PostgreSQL (migrated), %s, %d runs: median %v, min %v, max %v\n",
		limit, runs, times[len(times)/2].Round(100*time.Microsecond), times[0].Round(100*time.Microsecond), times[len(times)-1].Round(100*time.Microsecond))
	return nil
}

// startOnce starts the service, waits for its first healthy answer, and stops it.
func startOnce(wrap []string, bin, dbURL, dir string, timeout time.Duration) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	args := append(wrap, bin, "serve", "tests", "--addr", addr, "--database-url", dbURL,
		"--auth-issuer", "http://127.0.0.1:9/pool", "--auth-client-id", "benchclient",
		"--data-dir", dir, "--drain", "0s", "--log-level", "warn")
	cmd := exec.Command(args[0], args[1:]...)
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

// cpuCgroup creates a CPU cgroup limited to cpus (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us)
// and returns the path of its process list and a function that removes it.
func cpuCgroup(cpus float64) (procs string, remove func(), err error) {
	const period = 100000 // µs
	quota := int(cpus * period)
	name := fmt.Sprintf("decagon-bench-start-%d", os.Getpid())
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil { // v2
		dir := filepath.Join("/sys/fs/cgroup", name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "cpu.max"), fmt.Appendf(nil, "%d %d", quota, period), 0o644); err != nil {
			os.Remove(dir)
			return "", nil, fmt.Errorf("cpu.max: %w", err)
		}
		return filepath.Join(dir, "cgroup.procs"), func() { os.Remove(dir) }, nil
	}
	dir := filepath.Join("/sys/fs/cgroup/cpu", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	for file, v := range map[string]int{"cpu.cfs_period_us": period, "cpu.cfs_quota_us": quota} {
		if err := os.WriteFile(filepath.Join(dir, file), fmt.Append(nil, v), 0o644); err != nil {
			os.Remove(dir)
			return "", nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return filepath.Join(dir, "cgroup.procs"), func() { os.Remove(dir) }, nil
}
