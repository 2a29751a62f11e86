package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/store"
)

// TestPasswordRotation is RDS rotating its managed password under a running service (issue
// 14): the role's password changes and the pool's connections are killed. A pool whose
// connections take their password from a source connects again with the source's new value
// after one refused attempt; a pool with the password read once at start (the URL's,
// DECAGON_DATABASE_PASSWORD) keeps failing, as decagon.EUnavailable (503), never a 500.
func TestPasswordRotation(t *testing.T) {
	admin := passwordServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adminExec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	adminExec(`CREATE ROLE app LOGIN PASSWORD 'first'`)
	adminExec(`CREATE DATABASE app OWNER app`)
	u := strings.Replace(strings.Replace(admin, "postgres:admin@", "app@", 1), "/postgres?", "/app?", 1)

	var secret atomic.Value
	secret.Store("first")
	var fetches atomic.Int64
	source := func(context.Context) (string, error) {
		fetches.Add(1)
		return secret.Load().(string), nil
	}
	rotating, err := store.OpenMigrated(ctx, u, store.WithPassword(source))
	if err != nil {
		t.Fatalf("open with the source: %v", err)
	}
	defer rotating.Close()
	staticURL, err := store.URL(u, "first", "")
	if err != nil {
		t.Fatal(err)
	}
	static, err := store.Open(ctx, staticURL)
	if err != nil {
		t.Fatal(err)
	}
	defer static.Close()
	for name, db := range map[string]*store.DB{"source": rotating, "static": static} {
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("%s before the rotation: %v", name, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches before the rotation, want 1 (the value is cached, not fetched per connection)", n)
	}

	// The rotation: the secret and the role get the new password, every session of app ends.
	secret.Store("second")
	adminExec(`ALTER ROLE app PASSWORD 'second'`)
	adminExec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'`)

	// Both pools find their connections dead; then each opens a new one. Every failure on the
	// way is EUnavailable.
	var refused int
	poll(t, 10*time.Second, "the source's pool connects with the new password", func() bool {
		err := query(ctx, rotating)
		if err != nil && !errors.Is(err, decagon.ErrUnavailable) {
			t.Fatalf("source's pool: %v (code %q), want EUnavailable", err, decagon.ErrorCode(err))
		}
		if strings.Contains(fmt.Sprint(err), "28P01") {
			refused++
		}
		return err == nil
	})
	if refused > 1 {
		t.Errorf("the source's pool was refused %d times, want at most once (the refusal refetches)", refused)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches in all, want 2: one at start, one after the refusal", n)
	}
	var staticErr error
	poll(t, 10*time.Second, "the static pool tries a new connection", func() bool {
		staticErr = query(ctx, static)
		return strings.Contains(fmt.Sprint(staticErr), "28P01")
	})
	if !errors.Is(staticErr, decagon.ErrUnavailable) {
		t.Fatalf("stale static password: %v (code %q), want EUnavailable", staticErr, decagon.ErrorCode(staticErr))
	}
	if strings.Contains(staticErr.Error(), "first") || strings.Contains(staticErr.Error(), "second") {
		t.Errorf("the error repeats a password: %v", staticErr)
	}
	// Still the new password, and still failing for the static pool.
	if err := query(ctx, rotating); err != nil {
		t.Fatal(err)
	}
	if err := query(ctx, static); !errors.Is(err, decagon.ErrUnavailable) {
		t.Fatalf("static pool after the rotation: %v", err)
	}

	// A source that fails (Secrets Manager unreachable) makes the connection EUnavailable too.
	down := errors.New("secrets manager unreachable")
	failing, err := store.Open(ctx, u, store.WithPassword(func(context.Context) (string, error) { return "", down }))
	if err != nil {
		t.Fatal(err)
	}
	defer failing.Close()
	if err := query(ctx, failing); !errors.Is(err, decagon.ErrUnavailable) || !errors.Is(err, down) {
		t.Fatalf("failing source: %v (code %q), want EUnavailable wrapping the source's error", err, decagon.ErrorCode(err))
	}
}

// query reads a record that does not exist through a store, as a request does: nil when the
// database answered, the store's error (with its decagon code) otherwise.
func query(ctx context.Context, db *store.DB) error {
	_, err := db.Tests().Get(ctx, uuid.NewString(), "alice")
	if errors.Is(err, decagon.ErrNotFound) {
		return nil
	}
	return err
}

// poll calls cond every 20 ms until it holds or within passes.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// passwordServer starts a PostgreSQL of its own that checks passwords (scram-sha-256) and
// returns its admin URL (user postgres, password admin, database postgres). The shared test
// server trusts every local connection, so a refused password cannot be shown on it. It uses
// the PostgreSQL installed on the machine (initdb and pg_ctl, run as the postgres user when
// the test runs as root); without them the test is skipped, or fails when CI is set.
func passwordServer(t *testing.T) string {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("initdb not found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin)")
		}
		t.Skip("initdb not found; install PostgreSQL's server binaries to run this test")
	}
	dir, err := os.MkdirTemp("", "decagon-pw-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte("admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-A", "scram-sha-256", "-U", "postgres", "--pwfile="+pwfile, "-N")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	run("pg_ctl", "-D", data, "-w", "-s", "-l", filepath.Join(dir, "log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=8MB -c max_connections=30", port, dir), "start")
	t.Cleanup(func() { run("pg_ctl", "-D", data, "-m", "immediate", "-s", "stop") })
	return fmt.Sprintf("postgres://postgres:admin@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// postgresBin is the directory of initdb and pg_ctl, or "".
func postgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); fileExists(filepath.Join(dir, "initdb")) {
			return dir
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1])
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
