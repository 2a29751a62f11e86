package main

// Helpers for the black-box tests of the built binary (TestVerifyAgainstDev, TestQuickstart):
// they use nothing of this package but the command line, so they survive refactors of main.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the module's root, where the README and go.mod are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from the test's directory: %v", err)
	}
	return root
}

// cliBinary builds the decagon command from the repository root into a directory of its own,
// as a user would, and returns that directory (to put first on PATH) and the binary's path.
func cliBinary(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "decagon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/decagon")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/decagon: %v\n%s", err, out)
	}
	return dir, bin
}

// cliEnv is the environment without DECAGON_* variables, which would change what the
// commands under test read.
func cliEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DECAGON_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cliDev is a `decagon dev` child process.
type cliDev struct {
	url     string // http://127.0.0.1:PORT
	workDir string // its working directory; its data dir is workDir/.decagon
}

// startCLIDev runs `decagon dev` from workDir on a free loopback port, with the default data
// dir (.decagon) so that `decagon token` run from workDir finds it, and waits for
// /health-check to answer 200.
func startCLIDev(t *testing.T, bin, workDir string) *cliDev {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs lockedBuffer
	cmd := exec.Command(bin, "dev", "--addr", addr, "--data-dir", ".decagon", "--log-level", "warn")
	cmd.Dir = workDir
	cmd.Env = cliEnv()
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("decagon dev's output:\n%s", logs.String())
		}
	})
	d := &cliDev{url: "http://" + addr, workDir: workDir}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("decagon dev exited before it was healthy: %v\n%s", err, logs.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", d.url+"/health-check", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("decagon dev at %s not healthy within 60 s (last: %v)\n%s", d.url, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// token mints a token with `decagon token` from the stack's working directory.
func (d *cliDev) token(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"token"}, args...)...)
	cmd.Dir = d.workDir
	cmd.Env = cliEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("decagon token %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// needTools fails (never skips: CI must run these tests) when a command the test drives is
// missing.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s is needed by this test and is not on PATH: %v", n, err)
		}
	}
}

// lockedBuffer collects a child's output while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
