// Package devstacktest runs a stand-in for `decagon serve` as the tasks of a local stack in
// tests, without building decagon: the test binary started again, serving /health-check and an
// echo of its service, pid and path. Call Main first thing in TestMain.
//
// It imports only the standard library; only tests import it.
package devstacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

const (
	taskEnv = "DEVSTACKTEST_TASK" // the service's name: this process is a task
	addrEnv = "DEVSTACKTEST_ADDR" // where it listens
)

// Command is a devstack.Config.Command starting the stand-in task.
func Command(service, addr string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), taskEnv+"="+service, addrEnv+"="+addr)
	return cmd
}

// Main runs the stand-in task and exits when this process is one; it returns at once in the
// test process itself.
func Main() {
	service := os.Getenv(taskEnv)
	if service == "" {
		return
	}
	os.Exit(serve(service, os.Getenv(addrEnv)))
}

func serve(service, addr string) int {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"service": service, "pid": os.Getpid(), "path": r.URL.Path})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
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
