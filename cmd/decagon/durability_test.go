package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// buildBinary compiles decagon once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "decagon-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "decagon")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out), err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (b *buildError) Error() string { return b.err.Error() + ": " + b.out }

// startProcess runs `decagon dev` as a child process and returns its URL.
func startProcess(t *testing.T, bin, addr, dataDir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"dev", "--addr", addr, "--data-dir", dataDir, "--log-level", "error"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("decagon dev's log:\n%s", logs.String())
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m[1]
		}
	}
	t.Fatalf("dev process did not start: %v", sc.Err())
	return nil, ""
}

// getThrottled GETs url, waiting out the stage's throttling (429 with Retry-After).
func getThrottled(t *testing.T, client *http.Client, url, token string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			return resp.StatusCode
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A kill -9 in the middle of a stream of POSTs loses no acknowledged record.
func TestKillNineLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var extra []string
			if backend == "postgres" {
				extra = []string{"--database-url", postgresURL(t)}
			}
			dir := t.TempDir()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			cmd, url := startProcess(t, bin, addr, dir, extra...)
			tokOut, err := exec.Command(bin, "token", "--data-dir", dir, "--user", "kill9").Output()
			if err != nil {
				t.Fatal(err)
			}
			tok := strings.TrimSpace(string(tokOut))

			var (
				mu    sync.Mutex
				acked []string
				n     atomic.Int64
				wg    sync.WaitGroup
			)
			client := &http.Client{Timeout: 5 * time.Second}
			for w := 0; w < 8; w++ {
				wg.Go(func() {
					for {
						req, _ := http.NewRequest("POST", url+"/test", strings.NewReader(`{"name":"durable"}`))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+tok)
						resp, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						var rec struct {
							ID string `json:"test_id"`
						}
						err = json.NewDecoder(resp.Body).Decode(&rec)
						resp.Body.Close()
						if resp.StatusCode == 201 && err == nil {
							mu.Lock()
							acked = append(acked, rec.ID)
							mu.Unlock()
							n.Add(1)
						}
					}
				})
			}
			deadline := time.Now().Add(20 * time.Second)
			for n.Load() < 300 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			_ = cmd.Wait()
			if len(acked) == 0 {
				t.Fatal("no request was acknowledged before the kill")
			}

			_, url = startProcess(t, bin, addr, dir, extra...)
			missing := 0
			for _, id := range acked {
				if status := getThrottled(t, client, url+"/test/"+id, tok); status != 200 {
					t.Errorf("acknowledged record %s: GET answers %d", id, status)
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d acknowledged records lost after kill -9", missing, len(acked))
			}
			t.Logf("%s: all %d acknowledged records survived kill -9", backend, len(acked))
		})
	}
}
