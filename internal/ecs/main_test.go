package ecs

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tasks of these tests are this test binary run again with testTaskEnv set: a tiny HTTP
// service with a health check that can be made to fail, and a CPU burner switched on by a
// file, so the scheduler runs real child processes without a build step.
const (
	testTaskEnv  = "DECAGON_ECS_TEST_TASK"
	testAddrEnv  = "DECAGON_ECS_TEST_ADDR"
	testBurnEnv  = "DECAGON_ECS_TEST_BURN" // a file: while it exists, the task burns CPU
	testDutyEnv  = "DECAGON_ECS_TEST_DUTY" // percent of one CPU the burn takes: 25 by default
	testDelayEnv = "DECAGON_ECS_TEST_START_DELAY"
	testStackEnv = "DECAGON_ECS_TEST_STACK" // run a service of one task, print its pid, wait
)

func TestMain(m *testing.M) {
	if os.Getenv(testTaskEnv) == "1" {
		os.Exit(runTestTask())
	}
	if os.Getenv(testStackEnv) == "1" {
		os.Exit(runTestStack())
	}
	os.Exit(m.Run())
}

// taskCommand returns a Command that starts the test task.
func taskCommand(env ...string) func(addr string) *exec.Cmd {
	return func(addr string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), testTaskEnv+"=1", testAddrEnv+"="+addr)
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
}

func runTestTask() int {
	if d, err := time.ParseDuration(os.Getenv(testDelayEnv)); err == nil {
		time.Sleep(d) // a slow start, as a service opening its database
	}
	var failing atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /fail-health", func(w http.ResponseWriter, r *http.Request) { failing.Store(true) })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "pid %d\n", os.Getpid()) })
	ln, err := net.Listen("tcp", os.Getenv(testAddrEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if burn := os.Getenv(testBurnEnv); burn != "" {
		duty, err := strconv.Atoi(os.Getenv(testDutyEnv))
		if err != nil {
			duty = 25
		}
		go burnWhile(burn, time.Duration(duty)*20*time.Millisecond/100)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return 1
	}
	return 0
}

// burnWhile keeps one CPU busy for busy of every 20 ms while the file exists: by default 5 ms,
// all of a 256-unit task's vCPU whether or not a cgroup holds it there.
func burnWhile(file string, busy time.Duration) {
	for {
		if _, err := os.Stat(file); err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		start := time.Now()
		for time.Since(start) < busy {
		}
		if busy < 20*time.Millisecond {
			time.Sleep(20*time.Millisecond - busy)
		}
	}
}
